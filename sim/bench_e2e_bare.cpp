// The e2e top's Verilated model alone, no cocotb and no VPI callbacks: the ceiling of the
// co-simulation's speed (sim/bench_e2e.py links it against the objects of the cocotb build, so
// the model code is the same). Runs from time 0 to the picosecond given as the first argument
// (the clocks' generators read their schedule files as in the co-simulation; no replay is
// strobed, so the datapaths idle) and prints the end time and the number of evaluations.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "Vtop.h"
#include "verilated.h"

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s END_PS\n", argv[0]);
        return 2;
    }
    const uint64_t end_ps = std::strtoull(argv[1], nullptr, 10);
    const auto context = std::make_unique<VerilatedContext>();
    context->commandArgs(argc, argv);
    const auto top = std::make_unique<Vtop>(context.get(), "");
    uint64_t evals = 0;
    while (!context->gotFinish()) {
        top->eval();
        ++evals;
        if (!top->eventsPending()) break;
        const uint64_t next = top->nextTimeSlot();
        if (next > end_ps) break;
        context->time(next);
    }
    top->final();
    std::printf("%llu %llu\n", static_cast<unsigned long long>(context->time()),
                static_cast<unsigned long long>(evals));
    return 0;
}
