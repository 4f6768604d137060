// Simulation-only: record waves of a window of cycles instead of the whole run.
//
// At START_PS (simulation time) the dump opens: `$dumpvars` with no argument dumps the whole
// design into FILE. A window ends where the run ends (the testbench stops the simulation a
// margin after the cycle of interest): Verilator does not implement `$dumpoff`, so ending the
// run is the one way that works on both simulators. Verilator needs the model built with
// `--trace-fst` (tb.runner.run_cocotb(wave_window=True)) and dumps FST; cocotb runs Icarus's
// vvp with -fst, so it writes FST too.
`timescale 1ps/1ps
module sim_wave_window #(
    parameter [63:0] START_PS = 0,
    parameter FILE = "window.fst"
) ();
    initial begin
        #(START_PS);
        $dumpfile(FILE);
        $dumpvars;
    end
endmodule
