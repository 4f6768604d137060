"""Gate-offset calibration by histogram (SPEC 4.2 "delta ... found by a histogram calibration").

The indexer runs with ``delta = 0`` and a gate as wide as a pulse period, so every indexed
detection reports its residual ``r`` (1/16 LSB) relative to the nearest pulse of the sync
timeline. Folded modulo the 1600 ps pulse period, signal photons pile up at the sync-to-pulse
phase; background is flat. :func:`phase_histogram` counts residuals in ``BIN_PS`` bins (integer
arithmetic: the form an FPGA block RAM histogram takes); :func:`peak_phase` smooths the
histogram with the expected response folded the same way (a matched filter: it uses the
whole peak and its diffusion tail, not just the few bins at the top) and refines the maximum
with a parabola; the template's peak is at zero, so the result is the response peak, where the
gate is centred. Timing fixes ``delta`` only modulo the pulse
period; the whole-pulse part comes from the installation's nominal delay (``nominal_ps``,
known to better than half a period from cable lengths), as the closest value to it.

Calibration step in the chain (host side)
-----------------------------------------
The terminal's control processor runs the calibration on the ``ground_rx`` registers
(:class:`rtl.ground.tops.GroundRx`; register map there): write ``delta = 0`` and
``gate_half = CAL_GATE_HALF``, pulse ``hist_clear`` and wait for ``hist_busy`` low, let the
detections of a few frames through (>= ``min_counts`` indexed detections, ~1000 give +-20 ps),
read the ``BINS`` counts (``hist_addr`` -> ``hist_data`` one cycle later), compute
:func:`delta_from_histogram` and write ``delta`` and ``gate_half = 400``. The FPGA part is the
data reduction (Mcounts/s to 160 words in block RAM); the matched filter, 160 x 160 MACs
once per pass, and the whole-pulse choice from installation data belong to the processor.
:func:`calibrate_delta` is the same step on a tag stream through the golden models (bit-exact:
the RTL histogram equals :func:`phase_histogram` of the indexer model's records).
"""

from __future__ import annotations

import functools

import numpy as np

from models.constants import PULSE_PERIOD_PS
from models.ground.stimulus import DetectorResponse
from models.ground.timing import IndexerConfig, Status, run_indexer

BIN_PS = 10
BINS = PULSE_PERIOD_PS // BIN_PS
CAL_GATE_HALF = PULSE_PERIOD_PS // 2  # a whole pulse period: every indexed detection counts


class CalibrationError(ValueError):
    """Too few detections for a calibration."""


def phase_histogram(r16: np.ndarray, lsb_ps: float = 1.0) -> np.ndarray:
    """Counts of residuals ``r16`` (1/16 LSB) folded into ``BINS`` bins over one pulse period."""
    ps = np.floor(np.asarray(r16, dtype=np.int64) * lsb_ps / 16).astype(np.int64)
    return np.bincount((ps % PULSE_PERIOD_PS) // BIN_PS, minlength=BINS)


@functools.lru_cache(maxsize=8)
def response_template(response: DetectorResponse | None = None,
                      sync_fwhm_ps: float = 100.0) -> np.ndarray:
    """The detector response folded into the phase bins, its peak in bin 0 (a matched filter)."""
    response = response or DetectorResponse()
    grid = np.arange(-8000.0, 8001.0)
    pdf = response.pdf(grid, sync_fwhm_ps)
    rel = (grid - grid[np.argmax(pdf)]).astype(np.int64)
    return np.bincount((rel % PULSE_PERIOD_PS) // BIN_PS, weights=pdf, minlength=BINS)


def peak_phase(hist: np.ndarray, template: np.ndarray | None = None) -> float:
    """Phase (ps, in [0, 1600)) of the response peak in a phase histogram: maximum of the
    circular cross-correlation with ``template``, refined by a parabola."""
    template = response_template() if template is None else template
    corr = np.real(np.fft.ifft(np.fft.fft(hist) * np.conj(np.fft.fft(template))))
    i = int(np.argmax(corr))
    left, mid, right = corr[i - 1], corr[i], corr[(i + 1) % BINS]
    denom = left - 2 * mid + right
    shift = 0.5 * (left - right) / denom if denom else 0.0
    return float(((i + shift) * BIN_PS) % PULSE_PERIOD_PS)


def calibrate_delta(time: np.ndarray, channel: np.ndarray, frame: np.ndarray,
                    nominal_ps: float = 5_000.0, min_counts: int = 500) -> int:
    """``delta`` (TDC LSB = 1 ps) from a tag stream: histogram phase, whole pulses from
    ``nominal_ps``."""
    recs = run_indexer(time, channel, frame, IndexerConfig(delta=0, gate_half=CAL_GATE_HALF))
    r16 = np.array([r.r16 for r in recs if r.status == Status.ACCEPTED], dtype=np.int64)
    return delta_from_histogram(phase_histogram(r16), nominal_ps, min_counts)


def delta_from_histogram(bins: np.ndarray, nominal_ps: float = 5_000.0,
                         min_counts: int = 500) -> int:
    """``delta`` (TDC LSB = 1 ps) from the ``BINS`` counts of a calibration run: the response
    peak's phase, whole pulses from ``nominal_ps`` (the host side of the calibration step)."""
    bins = np.asarray(bins, dtype=np.int64)
    if bins.shape != (BINS,):
        raise CalibrationError(f"a phase histogram has {BINS} bins, got shape {bins.shape}")
    if bins.sum() < min_counts:
        raise CalibrationError(f"calibration needs at least {min_counts} indexed detections, "
                               f"got {int(bins.sum())}")
    phase = peak_phase(bins)
    whole = np.round((nominal_ps - phase) / PULSE_PERIOD_PS)
    return round(float(phase + whole * PULSE_PERIOD_PS))
