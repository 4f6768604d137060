"""models.ground.timing: a detection that arrives after the next sync has opened its interval
but belongs to the previous one is indexed in the previous interval; a timing step of exactly
half a link bit removes no bit (the RTL's loop halves towards zero); the status codes."""

from models.ground.timing import IndexerConfig, Record, Status, _index_one, _Interval, _remove_step

PERIOD = 400_000


def test_a_late_detection_is_indexed_in_the_previous_interval():
    cfg = IndexerConfig(delta=100)
    prev = _Interval(start=1_000_000, period=PERIOD, frame=7, status=Status.ACCEPTED)
    now = _Interval(start=1_000_000 + PERIOD, period=PERIOD, frame=8, status=Status.ACCEPTED)
    # u = t - delta on each interval's start: pulse 0 of its frame, no residual.
    assert _index_one(prev.start + 100, 2, cfg, now, prev) == Record(7 << 16, 2, 0,
                                                                      Status.ACCEPTED)
    assert _index_one(now.start + 100, 1, cfg, now, prev) == Record(8 << 16, 1, 0,
                                                                     Status.ACCEPTED)
    assert _index_one(prev.start + 99, 0, cfg, now, prev).status == Status.NO_SYNC


def test_half_a_bit_step_removes_no_bit():
    bit = 2000
    assert _remove_step(bit // 2, bit) == 0 and _remove_step(-(bit // 2), bit) == 0
    assert _remove_step(bit // 2 + 1, bit) == 1 and _remove_step(-(bit // 2) - 1, bit) == -1


def test_every_status_has_its_own_code():
    """The record's 3-bit status field: eight distinct codes, a bad channel not read as an
    ordering fault."""
    assert [s.value for s in Status] == list(range(8))
    assert Status.BAD_CHANNEL != Status.ORDER
