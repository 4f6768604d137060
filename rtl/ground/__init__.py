"""Ground FPGA receiver blocks (SPEC 4): sync detector, pulse indexer and gate."""
