"""The satellite transmitter with its simulation-only sources: the counter-based QRNG and the
symbol-path hold generator (simulation only).

Shared by the transmitter co-simulation top (:class:`rtl.simonly.tx_cosim_top.TxCosimTop`) and
the Amaranth-simulator tests: the seeded patterns (QRNG idle cycles, holds) live in the RTL and
the golden models replay them (:func:`models.qrng.qrng_offered`,
:func:`models.transmitter.symbol_path_holds`).
"""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, connect

from models.transmitter import HOLD_SEED_XOR
from rtl.common.forward import forward_member
from rtl.satellite.transmitter import SatelliteTx
from rtl.simonly.qrng_source import CounterQrngSource
from rtl.simonly.xorshift import Xorshift32, happens

# Transmitter members this wrapper drives itself (the mapper registers stay at their reset
# values: a top-level input would be zero on the simulators' ports).
_OWN = ("qrng", "hold", "thresholds", "lut_write")


class SourcedTx(wiring.Component):
    """:class:`~rtl.satellite.transmitter.SatelliteTx` fed by a
    :class:`~rtl.simonly.qrng_source.CounterQrngSource` (idle ``qrng_idle``/1024 of cycles) and
    held ``symbol_hold``/1024 of cycles.

    Latency, throughput: those of the transmitter.

    Members
    -------
    fault : In(2), fault_from : In(32)
        The QRNG fault and its first beat.
    tx members but ``qrng``, ``hold`` and the mapper registers (left at their reset values)
        Forwarded (``symbols``, ``safe``, ``fired``, ``alarm``, ``query``, ``answer``,
        ``cache_head``, ``link_payload``, ``downlink``).
    """

    def __init__(self, seed: int, lanes: int, cache_rows: int, qrng_idle: int = 0,
                 symbol_hold: int = 0) -> None:
        self.tx = SatelliteTx(lanes, cache_rows)
        self.qrng = CounterQrngSource(seed, lanes, qrng_idle)
        self.holds = Xorshift32(seed ^ HOLD_SEED_XOR)
        self._symbol_hold = symbol_hold
        members = {name: member for name, member in self.tx.signature.members.items()
                   if name not in _OWN}
        super().__init__({"fault": In(2), "fault_from": In(32), **members})

    def elaborate(self, platform):
        m = Module()
        m.submodules.tx = tx = self.tx
        m.submodules.qrng = self.qrng
        m.submodules.holds = self.holds
        connect(m, self.qrng.o, tx.qrng)
        m.d.comb += [
            self.qrng.fault.eq(self.fault),
            self.qrng.fault_from.eq(self.fault_from),
            tx.hold.eq(happens(self.holds.value, self._symbol_hold, "symbol_hold")),
        ]
        for name in self.signature.members:
            if name not in ("fault", "fault_from"):
                forward_member(m, self, tx, name)
        return m
