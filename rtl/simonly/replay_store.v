// Simulation-only batch register of rtl.e2e.replay.TimedReplay (load_file=...).
//
// The testbench appends each batch to LOAD_FILE (opened in the simulator's working directory
// at the first `take`) as one record of BYTES bytes, most significant byte first (what $fread
// reads into a register, the same in Icarus and Verilator): entry j in bits
// [j*ENTRY, (j+1)*ENTRY) of the record. At the clock edge where `take` is high the next record
// is read into `held`; `entry` is entry `index` of it.
//
// Why: with the batch on a wide top-level input (32 entries, 1664 to 5216 bits per replay),
// the Verilator model copied every such input into the design at every eval (a VPI-writable
// port), the Amaranth register copied it twice more per cycle (Yosys's `next = q; ...;
// q <= next`), and the entry select was a variable shift of the whole batch, every cycle, for
// three replays that move an entry a few times per sync frame. Here a batch costs one file
// read, a cycle one ENTRY-wide part select, and no wide value crosses VPI.
// `short_reads` counts takes that found less than a whole record (the testbench failed to
// write it before strobing): the batch is then wrong, and the testbench must fail.
module sim_replay_store #(
    parameter ENTRY = 1,
    parameter INDEX_BITS = 1,
    parameter BYTES = 1,
    parameter LOAD_FILE = ""
) (
    input clk,
    input take,
    input [INDEX_BITS-1:0] index,
    output [ENTRY-1:0] entry,
    output reg [31:0] short_reads
);
    reg [8*BYTES-1:0] held = 0;
    integer fd = 0;
    integer got = 0;

    initial short_reads = 0;

    always @(posedge clk) begin
        if (take) begin
            if (fd == 0) fd = $fopen(LOAD_FILE, "rb");
            got = (fd == 0) ? 0 : $fread(held, fd);
            if (got != BYTES) short_reads <= short_reads + 1;
        end
    end

    assign entry = held[index*ENTRY +: ENTRY];
endmodule
