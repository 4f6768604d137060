// Simulation-only: the word storage of the behavioural DRAM port model
// (rtl/simonly/dram_port_model.py) at DRAM sizes.
//
// An Amaranth memory carries an initial value per bit (2^19 words of 128 bits is 67 M nets to
// elaborate and an initial block of 2^19 lines to compile); this array has none: a word reads
// as the simulator's default until it is written, as a DRAM's does. One write port and one
// synchronous read port that returns the old word when both use an address in the same cycle
// (the Amaranth memory's non-transparent read port).
`timescale 1ps/1ps
module sim_dram_words #(
    parameter WIDTH = 128,
    parameter ABITS = 8
) (
    input  wire             clk,
    input  wire             we,
    input  wire [ABITS-1:0] waddr,
    input  wire [WIDTH-1:0] wdata,
    input  wire [ABITS-1:0] raddr,
    output reg  [WIDTH-1:0] rdata
);
    reg [WIDTH-1:0] mem [0:(1 << ABITS) - 1];
    always @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
        rdata <= mem[raddr];
    end
endmodule
