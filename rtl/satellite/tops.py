"""Synthesis tops of the satellite transmitter (``make synth``; SPEC 8 top names)."""

from collections.abc import Callable

from amaranth.lib import wiring

from models.constants import LANES
from rtl.satellite.transmitter import SatelliteTx

SYNTH_TOPS: dict[str, Callable[[], wiring.Component]] = {
    "satellite_tx": lambda: SatelliteTx(lanes=LANES),
}
