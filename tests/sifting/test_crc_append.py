"""CRC-32 trailer and checker RTL against models.sifting.messages (crc32_words, encode/decode)."""

import random

import numpy as np

from models.sifting.messages import crc32_words, decode_sift, encode_sift, encode_uplink
from rtl.common.payload import unpack_array
from rtl.sifting.crc_append import CrcAppender, CrcChecker, MessageStatus, MessageWord
from tb import pysim
from tb.sifting.stimulus import message_beats


def test_trailer_matches_model_messages():
    rng = np.random.default_rng(4)
    offset = np.sort(rng.choice(1 << 21, 30, replace=False))
    bits = [rng.integers(0, 2, 30) for _ in range(3)]
    messages = [
        encode_uplink(5, 2, offset, *bits, 21)[:-1],
        encode_sift(6, rng.integers(0, 8, 19))[:-1],
        encode_sift(7, None)[:-1],
        rng.integers(0, 1 << 32, 1, dtype=np.uint64).astype(np.uint32),
    ]
    beats = message_beats(messages)
    want = [w for msg in messages for w in [*msg.tolist(), crc32_words(msg)]]
    dut = CrcAppender()
    prng = random.Random(4)
    out: list[int] = []
    pysim.run(dut, pysim.producer(dut.i, beats, prng, idle=0.3),
              pysim.consumer(dut.o, len(want), out, prng, stall=0.3))
    got = unpack_array(MessageWord, out)
    assert got["data"].tolist() == want
    lasts = np.cumsum([len(msg) + 1 for msg in messages]) - 1
    assert np.flatnonzero(got["last"]).tolist() == lasts.tolist()
    assert want[len(messages[0])] == int(encode_uplink(5, 2, offset, *bits, 21)[-1])


def test_checker_flags_corrupted_messages_like_the_model():
    rng = np.random.default_rng(5)
    messages = []
    for k in range(12):
        words = encode_sift(k, rng.integers(0, 8, int(rng.integers(0, 40))))
        if k % 3 == 1:  # a bit error somewhere, trailer included
            words = words.copy()
            words[rng.integers(len(words))] ^= np.uint32(1 << int(rng.integers(32)))
        messages.append(words)
    beats = message_beats(messages)
    dut = CrcChecker()
    prng = random.Random(5)
    out: list[int] = []
    pysim.run(dut, pysim.producer(dut.i, beats, prng, idle=0.3),
              pysim.consumer(dut.o, len(messages), out, prng, stall=0.3))
    want_ok = [int(decode_sift(msg) is not None) for msg in messages]
    got = unpack_array(MessageStatus, out)
    assert got["ok"].tolist() == want_ok and want_ok.count(0) == 4
    assert got["words"].tolist() == [len(msg) - 1 for msg in messages]
