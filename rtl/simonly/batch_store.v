// Simulation-only storage of rtl.simonly.batcher.StreamBatcher (verilog_store=True).
//
// Beat `index` of the batch is written in place: Verilator updates only the WIDTH bits of the
// slot (VL_ASSIGNSEL), where the Amaranth-generated shift register costs two full-width copies
// of `batch` per cycle (Yosys emits `next = batch; if (...) next = ...; batch <= next;`).
// Icarus also touches only the slot. `batch` holds beat j in bits [j*WIDTH, (j+1)*WIDTH).
module sim_batch_store #(
    parameter WIDTH = 1,
    parameter DEPTH = 1,
    parameter INDEX_BITS = 1
) (
    input clk,
    input we,
    input [INDEX_BITS-1:0] index,
    input [WIDTH-1:0] data,
    output reg [WIDTH*DEPTH-1:0] batch
);
    initial batch = 0;
    always @(posedge clk)
        if (we)
            batch[index*WIDTH +: WIDTH] <= data;
endmodule
