"""One synthesised top per FPGA (satellite, ground): clocks, resets, pins and the blocks."""
