"""rtl.link.aligner with an even ``lock_bad`` (the 802.3 default is 16; the main test uses 3):
the lock is lost at exactly the ``lock_bad``-th invalid header of a window, as the model says."""

from models.link import channel, line_code, receiver
from models.link.receiver import RxConfig
from tb.link.pysim_bench import run_aligner
from tb.link.stimulus import line_bits, random_messages

CONFIG = RxConfig(lock_good=4, lock_bad=4, window=16)


def test_lock_lost_at_the_even_lock_bad_th_invalid_header():
    seed = 2
    bits = line_bits(random_messages(seed, 30), lead=90, sync_every=11, skew=7, seed=seed)
    faults = channel.random_faults(len(bits), seed, ber=5e-4, burst_rate=3e-4, burst_bits=300,
                                   slip_rate=0)
    received = channel.apply(bits, faults)
    want = receiver.receive(received, CONFIG)
    got = run_aligner(line_code.bits_to_words(received).tolist(), CONFIG, idle=0.2, seed=seed)
    assert want.counters["lock_losses"] >= 1
    assert got.lock_trace == want.lock_trace
    assert got.blocks == want.blocks
