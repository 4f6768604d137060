"""Record files of the Verilog batch store: BatchRecordReader decodes what `%u` writes.

The co-simulation (tests/satellite/test_tx_cosim.py) checks the Verilog side on both simulators;
here the reader is checked against an independent encoder of the documented record layout.
"""

import random

import numpy as np
import pytest

from rtl.simonly.batcher import StreamBatcher
from tb.capture import BatchRecordError, BatchRecordReader


def record(tag: int, tag_bits: int, beats: list[int], width: int) -> bytes:
    """One record as ``$fwrite("%u")`` writes it: tag then batch, LE 32-bit words."""
    batch = sum(beat << (width * j) for j, beat in enumerate(beats))
    tag_words = max(1, -(-tag_bits // 32))
    batch_words = -(-(width * len(beats)) // 32)
    return tag.to_bytes(4 * tag_words, "little") + batch.to_bytes(4 * batch_words, "little")


@pytest.mark.parametrize(("width", "depth", "tag_bits"), [(80, 4, 64), (34, 3, 0), (7, 5, 16)])
def test_reader_returns_complete_records_in_order(tmp_path, width, depth, tag_bits):
    rng = random.Random(width)
    batches = [[rng.randrange(1 << width) for _ in range(depth)] for _ in range(5)]
    tags = [rng.randrange(1 << max(tag_bits, 1)) if tag_bits else 0 for _ in batches]
    data = b"".join(record(t, tag_bits, b, width) for t, b in zip(tags, batches, strict=True))
    path = tmp_path / "capture.bin"
    reader = BatchRecordReader(path, width, depth, tag_bits)
    cut = len(data) // 5 * 2 + 3  # two records and a few bytes of the third
    path.write_bytes(data[:cut])

    beats, got_tags = reader.read()
    assert got_tags.tolist() == tags[:2] and beats.shape == (2 * depth, width)
    with path.open("ab") as f:
        f.write(data[cut:])
    more_beats, more_tags = reader.read()
    reader.close()
    assert more_tags.tolist() == tags[2:]
    all_beats = np.concatenate([beats, more_beats])
    weights = [1 << k for k in range(width)]
    values = [int(np.dot(row.astype(object), weights)) for row in all_beats]
    assert values == [beat for batch in batches for beat in batch]


def test_reader_limit_leaves_later_records_for_later(tmp_path):
    batches = [[j, j + 1] for j in range(0, 10, 2)]
    path = tmp_path / "capture.bin"
    path.write_bytes(b"".join(record(0, 0, b, 8) for b in batches))
    reader = BatchRecordReader(path, 8, 2)
    first, _ = reader.read(limit=2)
    assert reader.records == 2
    assert reader.read(limit=2)[1].size == 0  # the limit is in all, not per call
    rest, tags = reader.read()
    reader.close()
    assert reader.records == len(batches) and tags.size == len(batches) - 2
    weights = 1 << np.arange(8)
    assert (np.concatenate([first, rest]) @ weights).tolist() == list(range(10))


def test_reader_reports_a_missing_file(tmp_path):
    with pytest.raises(BatchRecordError, match="was not created"):
        BatchRecordReader(tmp_path / "none.bin", 8, 2).read()


def test_record_file_needs_the_verilog_store():
    with pytest.raises(ValueError, match="needs verilog_store"):
        StreamBatcher(8, 4, record_file="x.bin")
