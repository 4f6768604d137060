"""Ground receiver ("Bob") golden models: sync detection, pulse indexing and gate, calibration,
squashing, and the time-tag stimulus generator (SPEC 2 and 4, items 1 to 3)."""
