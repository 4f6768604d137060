"""``sim_replay_store`` (the e2e replays' batch register, read from a file) against
:func:`rtl.e2e.replay.batch_record`, on Icarus directly (a second; the e2e co-simulation runs it
on both simulators)."""

import random
import subprocess

import pytest

from rtl.e2e.replay import (
    DUE_BITS,
    REPLAY_STORE_VERILOG,
    ReplayError,
    batch_record,
    record_bytes,
)

WIDTH, BATCH = 67, 5  # an uplink report: entries and records not byte-aligned
ENTRY = WIDTH + DUE_BITS

BENCH = f"""
module bench;
  reg clk = 1'b0, take = 1'b0;
  reg [2:0] index = 0;
  wire [{ENTRY - 1}:0] entry;
  wire [31:0] short_reads;
  integer batch, j;
  sim_replay_store #(.ENTRY({ENTRY}), .INDEX_BITS(3), .BYTES({record_bytes(WIDTH, BATCH)}),
                     .LOAD_FILE("batches.bin"))
    store(.clk(clk), .take(take), .index(index), .entry(entry), .short_reads(short_reads));
  initial begin
    for (batch = 0; batch < 3; batch = batch + 1) begin
      take = 1'b1; #1 clk = 1'b1; #1 clk = 1'b0; take = 1'b0;
      for (j = 0; j < {BATCH}; j = j + 1) begin index = j; #1 $display("%0d %h", batch, entry); end
      #1 clk = 1'b1; #1 clk = 1'b0;  // an edge without take keeps the batch
      index = 0; #1 $display("%0d %h", batch, entry);
    end
    $display("short %0d", short_reads);
    $finish;
  end
endmodule
"""


def test_store_reads_each_record_at_take_and_counts_a_missing_one(tmp_path):
    rng = random.Random(3)
    batches = [([rng.randrange(1 << WIDTH) for _ in range(n)],
                sorted(rng.randrange(1 << DUE_BITS) for _ in range(n))) for n in (BATCH, 3)]
    # two records for three takes: the third finds none (short read)
    (tmp_path / "batches.bin").write_bytes(b"".join(
        batch_record(payload, due, WIDTH, BATCH) for payload, due in batches))
    (tmp_path / "bench.v").write_text(BENCH)
    subprocess.run(["iverilog", "-g2012", "-s", "bench", "-o", "sim.vvp",
                    str(REPLAY_STORE_VERILOG), "bench.v"], cwd=tmp_path, check=True)
    out = subprocess.run(["vvp", "-n", "sim.vvp"], cwd=tmp_path, check=True,
                         capture_output=True, text=True).stdout.split("\n")
    for b, (payload, due) in enumerate(batches):
        got = [int(line.split()[1], 16) for line in out if line.startswith(f"{b} ")]
        want = [p | d << WIDTH for p, d in zip(payload, due, strict=True)]
        assert got[:len(want)] == want and got[-1] == want[0]
    assert "short 1" in out


def test_batch_record_refuses_an_oversized_batch():
    with pytest.raises(ReplayError, match="6 entries in a batch of 5"):
        batch_record([0] * 6, [0] * 6, WIDTH, BATCH)
