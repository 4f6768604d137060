// Simulation-only storage of rtl.simonly.batcher.StreamBatcher (verilog_store=True).
//
// Beat `index` of the batch is written in place: Verilator updates only the WIDTH bits of the
// slot (VL_ASSIGNSEL), where the Amaranth-generated shift register costs two full-width copies
// of `batch` per cycle (Yosys emits `next = batch; if (...) next = ...; batch <= next;`).
// Icarus also touches only the slot. `batch` holds beat j in bits [j*WIDTH, (j+1)*WIDTH).
//
// With a RECORD_FILE, every completed batch is also appended to that file (opened in the
// simulator's working directory) as one record: `tag` then `batch`, each written with `%u`
// (raw little-endian 32-bit words, least significant word first, padded to whole words, the
// same in both simulators), and flushed. The write happens at the clock edge after the batch's
// last beat (`last` high), before the next beat replaces slot 0 (a non-blocking write), so a
// reader sees batch k at the latest one cycle after its `done`. Reading a file costs nothing
// per bit, where a VPI read of `batch` costs a call per bit (vpiBinStrVal) or per byte
// (vpiStringVal). tb.capture.BatchRecordReader decodes the records.
module sim_batch_store #(
    parameter WIDTH = 1,
    parameter DEPTH = 1,
    parameter INDEX_BITS = 1,
    parameter TAG_BITS = 1,
    parameter RECORD_FILE = ""
) (
    input clk,
    input we,
    input last,
    input [INDEX_BITS-1:0] index,
    input [WIDTH-1:0] data,
    input [TAG_BITS-1:0] tag,
    output reg [WIDTH*DEPTH-1:0] batch
);
    integer fd = 0;
    reg complete = 1'b0;

    initial begin
        batch = 0;
        if (RECORD_FILE != "") fd = $fopen(RECORD_FILE, "wb");
    end

    always @(posedge clk) begin
        if (we)
            batch[index*WIDTH +: WIDTH] <= data;
        complete <= we && last;
        if (complete && fd != 0) begin
            $fwrite(fd, "%u", tag);
            $fwrite(fd, "%u", batch);
            $fflush(fd);
        end
    end
endmodule
