"""LDPC syndrome error correction of sifted-key packets (paper step 3, SPEC 7).

The satellite sends the syndrome ``H x'`` of each codeword x'; the ground, holding y, decodes
the error pattern from ``H x' ⊕ H y'`` with the compiled layered sum-product decoder of
:mod:`models.postprocess.qc_decoder` and corrects y. Two modes (:data:`EC_MODES`):

* **one-way** (default, SPEC 7 and the paper): x' = x; the rate comes from the packet's
  sampled QBER (upper confidence bound), one syndrome, one decoding; a failure drops the packet
  on both sides. Leak: every syndrome bit.
* **interactive** (:data:`INTERACTIVE`): x' = (x, secret padding u); a codeword that does not
  decode is retried after the satellite discloses further padding bits (punctured ->
  shortened); a codeword that still fails with all padding public drops the packet.

Design (measured numbers in ``docs/postprocessing.md``):

* **One codeword per 100 kbit packet** (longer codes have a steeper waterfall; the compiled
  decoder makes them affordable; shorter packets are split into near-equal codewords).
* **Code family** (:mod:`models.postprocess.qc_code`): quasi-cyclic irregular
  repeat-accumulate codes built from a public code seed, identically on both sides, per shape
  (n + m/2 + fill, m); quasi-cyclic so that the decoder runs on vectors.
* **Rate.** The sampled counters (interactive: pooled with the previous packet's corrected
  counts) give an error probability per intensity tag (:func:`estimate_channel`); the
  syndrome is ``f_design · Σ_bits h(q_up[tag])`` (q_up: ``z_margin`` standard deviations above
  the estimate) on a ladder of lengths (few shapes per pass). Interactive only: secret padding
  cancels the part above ``f_start(q) · Σ h(q)``, so the first syndrome leaks that much
  whatever the ladder, and reveal rounds of ``f_step · Σ h(q)`` bits absorb the rest.
* **Leak** of a codeword: m − d + r (d padding bits, r of them disclosed; one-way d = r = 0),
  see :meth:`Plan.leak`; every disclosed bit counts.
"""

import concurrent.futures
import functools
import itertools
import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import scipy.sparse as sp

from models.postprocess import qc_code, qc_decoder
from models.postprocess.errors import PostprocessInputError
from models.postprocess.finitekey import binary_entropy

CODEWORD_BITS = 100_000
T = TypeVar("T")
VERIFY_HASH_BITS = 64  # leak of the verification hash sent with each packet's syndromes


EC_MODES = ("one-way", "interactive")


class EcConfigError(PostprocessInputError):
    """Error-correction parameters that cannot work (an unknown mode)."""


@dataclass(frozen=True)
class EcConfig:
    """Parameters of the rate choice, the reveal rounds (interactive mode) and the decoder.

    ``mode``: "one-way" (SPEC 7's default, the paper's: one syndrome per packet, one decoding,
    no padding, a failure drops the packet) or "interactive" (secret padding and reveal rounds;
    :data:`INTERACTIVE` holds its parameters).
    Mother code: ``f_design(q) · Σ h(q_up)`` syndrome bits over a codeword's bits, f_design
    interpolated over the packet's signal QBER through the (QBER, f) points, q_up the sampled
    QBER plus ``z_margin`` binomial standard deviations (the upper confidence bound), rounded
    up to the ladder of :func:`syndrome_bits_for` (ratio ``m_ladder``, so that codes, built and
    cached per shape, are reused). Interactive mode only: secret padding bits (punctured)
    cancel the part of the mother syndrome above ``f_start(q) · Σ h(q)`` (q: the point
    estimate; at most half of the syndrome), so the first syndrome leaks that much, and each
    round after a decoding failure discloses ``f_step · Σ h(q)`` padding bits (at least
    1/``max_rounds`` of the padding). ``prior_weight``: weight of the previous packet's
    corrected error counts pooled with the packet's own sample (:func:`estimate_channel`; 0:
    the sample alone).
    max_syndrome_fraction: above this mother m/n the packet is not worth reconciling (dropped
    as ``qber_too_high``); check_rule: the decoder's check-node update ("sum-product", or
    "min-sum" normalised by ms_scaling, which needs far more reveal rounds on these codes);
    max_iter: layered iterations per attempt; patience: iterations without progress before an
    attempt gives up. Values measured in docs/postprocessing.md.
    """

    mode: str = "one-way"
    codeword_bits: int = CODEWORD_BITS
    f_design: tuple[tuple[float, float], ...] = ((0.01, 1.2),)
    f_start: tuple[tuple[float, float], ...] = (
        (0.005, 1.12), (0.01, 1.1), (0.02, 1.1), (0.03, 1.08))
    m_ladder: float = 1.02
    prior_weight: float = 0.0
    f_step: float = 0.03
    max_rounds: int = 10
    z_margin: float = 1.5
    min_qber: float = 0.002
    max_syndrome_fraction: float = 0.6
    check_rule: str = "sum-product"
    ms_scaling: float = 0.75
    max_iter: int = 80
    patience: int = 8
    warm_start: bool = True
    code_seed: int = 0x4A494E414E31  # public: both sides build the same matrices

    def __post_init__(self) -> None:
        if self.mode not in EC_MODES:
            raise EcConfigError(f"ec_mode {self.mode!r} is not one of {', '.join(EC_MODES)}")

    @property
    def one_way(self) -> bool:
        return self.mode == "one-way"


INTERACTIVE = EcConfig(mode="interactive", f_design=((0.01, 1.3),), m_ladder=1.05,
                       prior_weight=0.1, z_margin=1.0, max_iter=40, patience=4)


def ec_config(mode: str) -> EcConfig:
    """The parameters of an EC mode ("one-way" or "interactive"); one-line error otherwise."""
    return INTERACTIVE if mode == "interactive" else EcConfig(mode=mode)


@dataclass(frozen=True)
class ChannelEstimate:
    """Error probabilities per intensity (signal, decoy, vacuum) from the sampled counters.

    ``q``: point estimates (e + 1/2)/(n + 1), for the decoder's per-bit channel; ``q_up``: q plus
    ``z_margin`` binomial standard deviations, for the rate. Both clipped to [min_qber, 1/2].
    """

    q: np.ndarray
    q_up: np.ndarray

    def f_design(self, cfg: EcConfig) -> float:
        """f_design of the configuration at this packet's signal error probability."""
        return self.interpolate(cfg.f_design)

    def interpolate(self, table: tuple[tuple[float, float], ...]) -> float:
        """A (QBER, f) table interpolated at this packet's signal error probability."""
        points = np.asarray(table, dtype=float)
        return float(np.interp(self.q[0], points[:, 0], points[:, 1]))

    def bit_entropy(self, intensity: np.ndarray, upper: bool = True) -> np.ndarray:
        """h(q_up) (or h(q) with ``upper=False``) of every bit, by its intensity tag."""
        h = np.array([binary_entropy(float(v)) for v in (self.q_up if upper else self.q)])
        return h[np.asarray(intensity, dtype=np.intp)]


def estimate_channel(sampled_detected: np.ndarray, sampled_errors: np.ndarray, cfg: EcConfig,
                     prior: tuple[np.ndarray, np.ndarray] | None = None) -> ChannelEstimate:
    """Per-intensity channel of a packet from its [basis, intensity] sampled counters.

    The tags are public, so both decoder and rate use them: the vacuum bits (~0.2 % of a packet,
    ~45 % errors) and decoy bits get their own error probability instead of inflating the
    average, which lowers the syndrome length to Σ_bits h(q_tag) < n·h(QBER) and gives the
    decoder correct log-likelihoods.

    ``prior``: [basis, intensity] key-bit and corrected-error counts of the previous reconciled
    packet (public after its EC_RESULT message), pooled with weight ``cfg.prior_weight`` (the
    prior is ~10 times the sample) where the QBER drifts slowly; ignored when the two error
    rates differ by more than 3 standard deviations of the sample (a jump, e.g. the moon
    entering the field of view).
    """
    n = np.asarray(sampled_detected, dtype=float).sum(axis=0)
    e = np.asarray(sampled_errors, dtype=float).sum(axis=0)
    if prior is not None and cfg.prior_weight > 0:
        n_prior = np.asarray(prior[0], dtype=float).sum(axis=0)
        e_prior = np.asarray(prior[1], dtype=float).sum(axis=0)
        q_sample = (e.sum() + 0.5) / (n.sum() + 1.0)
        q_prior = (e_prior.sum() + 0.5) / (n_prior.sum() + 1.0)
        if abs(q_sample - q_prior) <= 3.0 * math.sqrt(q_sample * (1 - q_sample) / max(n.sum(),
                                                                                 1.0)):
            n = n + cfg.prior_weight * n_prior
            e = e + cfg.prior_weight * e_prior
    q = np.clip((e + 0.5) / (n + 1.0), cfg.min_qber, 0.5)
    q_up = np.minimum(q + cfg.z_margin * np.sqrt(q * (1 - q) / np.maximum(n, 1.0)), 0.5)
    return ChannelEstimate(q, q_up)


def syndrome_fraction(estimate: ChannelEstimate, intensity: np.ndarray, cfg: EcConfig
                      ) -> float:
    """Mother-code m/n of a packet: f_design · mean over its bits of h(q_up of its tag)."""
    return estimate.f_design(cfg) * float(np.mean(estimate.bit_entropy(intensity)))


M_LADDER = 1.05  # syndrome lengths: a geometric ladder of 5 % steps, in whole layers


def syndrome_bits_for(n: int, fraction: float, ladder: float = M_LADDER) -> int:
    """Syndrome length of an n-bit codeword for a fraction: the next rung of a geometric
    ladder, rounded up to a multiple of the code's lift (:func:`qc_code.lift_for_rows`: whole
    layers of checks). Few distinct shapes, so codes are reused; the padding makes the first
    syndrome's leak independent of the rung."""
    target = max(fraction * n, 1.0)
    rung = ladder ** math.ceil(math.log(target) / math.log(ladder) - 1e-9)
    lift = qc_code.lift_for_rows(math.ceil(rung))
    return max(2, min(n - 1, lift * math.ceil(rung / lift)))


@functools.lru_cache(maxsize=64)
def parity_check_matrix(n: int, m: int, code_seed: int) -> sp.csr_matrix:
    """The scalar m × n parity-check matrix of the family (:mod:`models.postprocess.qc_code`;
    deterministic in its arguments, built in milliseconds)."""
    return qc_code.build_code(n, m, code_seed).csr()


def syndrome(h: sp.csr_matrix, bits: np.ndarray) -> np.ndarray:
    """H·x over GF(2) as uint8."""
    return ((h.astype(np.int32) @ bits.astype(np.int32)) & 1).astype(np.uint8)


KNOWN_LLR = 30.0  # channel LLR of a disclosed padding bit (error probability ~1e-13)


def split_codewords(length: int, codeword_bits: int) -> list[slice]:
    """Slices of a packet of ``length`` bits into near-equal codewords of <= codeword_bits."""
    count = max(1, math.ceil(length / codeword_bits))
    edges = np.linspace(0, length, count + 1).round().astype(int)
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(edges)]


@dataclass(frozen=True)
class Plan:
    """One codeword: n key bits, mother syndrome m, d padding bits, reveal step (bits/round)."""

    n: int
    m: int
    d: int
    step: int

    @property
    def slots(self) -> int:
        """Padding slots, every other staircase column: the d secret padding bits fill the
        first ones, the others hold public zeros (shortened). A fixed count per (n, m), so that
        codes are built and cached per syndrome length, not per padding amount."""
        return self.m // 2

    @property
    def fill(self) -> int:
        """Public zero bits appended to the key bits so that the information part of the
        extended word fills whole blocks of the quasi-cyclic code (fewer than its lift)."""
        return -(self.n + self.slots - self.m) % qc_code.block_lift(self.m)

    @property
    def length(self) -> int:
        """Length N = n + m // 2 + fill of the extended word the code protects."""
        return self.n + self.slots + self.fill

    def fill_positions(self) -> np.ndarray:
        """The fill bits: the last columns of the information part."""
        return self.length - self.m - self.fill + np.arange(self.fill)

    def slot_positions(self) -> np.ndarray:
        """All padding slots in the extended word: every other staircase column.

        Distinct staircase columns are linearly independent, so the d padding columns of H have
        rank d (the leak argument of :func:`Plan.leak`), and no check touches two of them.
        """
        return self.length - self.m + 2 * np.arange(self.slots)

    def pad_positions(self) -> np.ndarray:
        """The slots of the d secret padding bits."""
        return self.slot_positions()[: self.d]

    def zero_positions(self) -> np.ndarray:
        """The positions holding public zeros: the slots without padding, and the fill."""
        return np.concatenate([self.fill_positions(), self.slot_positions()[self.d:]])

    def key_positions(self) -> np.ndarray:
        keep = np.ones(self.length, dtype=bool)
        keep[self.slot_positions()] = False
        keep[self.fill_positions()] = False
        return np.flatnonzero(keep)

    def leak(self, revealed: int) -> int:
        """Bits of information about the key in the syndrome plus ``revealed`` padding bits.

        The padding u is uniform and independent of the key x and its columns H_P have full
        rank d: for each x the syndrome H_K x ⊕ H_P u is uniform on a coset of 2^(d − r) words
        once r padding bits are public, so (syndrome, revealed bits) tell at most
        m + r − d bits about x (the guessing probability grows at most by 2^(m − d + r)).
        """
        return self.m - self.d + revealed

    def extend(self, key_bits: np.ndarray, pad: np.ndarray) -> np.ndarray:
        word = np.zeros(self.length, dtype=np.uint8)
        word[self.key_positions()] = key_bits
        word[self.pad_positions()] = pad  # the remaining slots and the fill stay 0
        return word


def plan_codewords(intensity: np.ndarray, estimate: ChannelEstimate, cfg: EcConfig
                   ) -> tuple[Plan, ...]:
    """The satellite's per-codeword rates from the packet's sampled channel (both sides can
    recompute them from the public tags and estimate, but the plan is sent anyway)."""
    upper = estimate.bit_entropy(intensity)
    point = estimate.bit_entropy(intensity, upper=False)
    f_design = estimate.f_design(cfg)
    plans = []
    for cw in split_codewords(int(np.asarray(intensity).size), cfg.codeword_bits):
        n = cw.stop - cw.start
        m = syndrome_bits_for(n, f_design * float(np.mean(upper[cw])), cfg.m_ladder)
        entropy = float(np.sum(point[cw]))
        d = 0 if cfg.one_way else min(
            m // 2, max(0, m - math.ceil(estimate.interpolate(cfg.f_start) * entropy)))
        step = max(1, math.ceil(cfg.f_step * entropy), math.ceil(d / cfg.max_rounds))
        plans.append(Plan(n, m, d, step))
    return tuple(plans)


@dataclass(frozen=True)
class Syndromes:
    """What the satellite sends first for one packet: the codeword plans and the syndromes of
    the extended words (key bits and secret padding)."""

    plans: tuple[Plan, ...]
    bits: np.ndarray  # all syndromes concatenated, uint8

    @property
    def shapes(self) -> tuple[tuple[int, int], ...]:
        return tuple((p.n, p.m) for p in self.plans)

    @property
    def leak_bits(self) -> int:
        """Key information in the syndromes alone (no padding revealed yet)."""
        return sum(p.leak(0) for p in self.plans)


def pad_bits_needed(plans: tuple[Plan, ...]) -> int:
    return sum(p.d for p in plans)


def split_pad(plans: tuple[Plan, ...], pad: np.ndarray) -> list[np.ndarray]:
    """The padding of all codewords (drawn at once) cut per codeword."""
    edges = np.cumsum([0] + [p.d for p in plans])
    return [pad[a:b] for a, b in itertools.pairwise(edges)]


def encode(x: np.ndarray, plans: tuple[Plan, ...], pad: np.ndarray, cfg: EcConfig
           ) -> Syndromes:
    """Satellite side: syndromes of the extended words (packet bits x plus padding)."""
    if pad.size != pad_bits_needed(plans):
        raise ValueError(f"padding has {pad.size} bits, the plans need {pad_bits_needed(plans)}")
    parts = []
    for cw, plan, u in zip(split_codewords(x.size, cfg.codeword_bits), plans,
                           split_pad(plans, pad), strict=True):
        h = parity_check_matrix(plan.length, plan.m, cfg.code_seed)
        parts.append(syndrome(h, plan.extend(x[cw], u)))
    return Syndromes(plans, np.concatenate(parts))


@dataclass(frozen=True)
class DecodeResult:
    converged: bool
    corrected: np.ndarray  # ground bits after correction (uint8)
    error_mask: np.ndarray  # bits flipped by the decoder (uint8)
    iterations: int  # sum over codewords and attempts


class GroundDecoder:
    """Ground side of one packet: decoding attempts between the satellite's reveal rounds.

    ``q``: error probability per intensity (the satellite's point estimates, sent with the
    syndromes), which sets each key bit's channel log-likelihood; unrevealed padding bits get
    probability 1/2 (punctured), revealed ones a vanishing error probability (shortened).
    """

    def __init__(self, y: np.ndarray, intensity: np.ndarray, received: Syndromes,
                 q: np.ndarray, cfg: EcConfig) -> None:
        self.y, self.cfg, self.received = y, cfg, received
        self.slices = split_codewords(y.size, cfg.codeword_bits)
        self.valid = [s.stop - s.start for s in self.slices] == [p.n for p in received.plans]
        self.llr = qc_decoder.channel_llr(np.clip(np.asarray(q, dtype=float), cfg.min_qber, 0.5)
                                      ).astype(np.float32)[np.asarray(intensity, dtype=np.intp)]
        self.revealed = [np.zeros(0, dtype=np.uint8) for _ in received.plans]
        self.errors = np.zeros_like(y)
        self.done = [False] * len(received.plans)
        self.warm = [qc_decoder.WarmStart() for _ in received.plans]
        self.iterations = 0
        offsets = np.cumsum([0] + [p.m for p in received.plans])
        self.targets = [received.bits[a:b] for a, b in itertools.pairwise(offsets)]
        self.differences: dict[int, np.ndarray] = {}  # syndrome differences, per codeword

    def reveal(self, index: int, bits: np.ndarray) -> None:
        """Padding bits of codeword ``index`` that the satellite disclosed, in order."""
        joined = np.concatenate([self.revealed[index], np.asarray(bits, dtype=np.uint8)])
        self.revealed[index] = joined[: self.received.plans[index].d]

    def can_reveal(self, index: int) -> bool:
        return self.revealed[index].size < self.received.plans[index].d

    def attempt(self) -> list[int]:
        """Decode every codeword not yet corrected; returns the indices that failed."""
        if not self.valid:
            return list(range(len(self.received.plans)))
        pending = [i for i, done in enumerate(self.done) if not done]
        inputs = [self._decoder_input(i) for i in pending]
        if not inputs:
            return []
        failed = []
        for index, (code, target, llr) in zip(pending, inputs, strict=True):
            e, iterations, ok = qc_decoder.decode(
                code, target, llr, self.cfg.ms_scaling, self.cfg.max_iter, self.cfg.patience,
                self.warm[index] if self.cfg.warm_start else None, self.cfg.check_rule)
            self.iterations += iterations
            plan = self.received.plans[index]
            r = self.revealed[index].size
            if (ok and np.array_equal(e[plan.pad_positions()[:r]], self.revealed[index])
                    and not e[plan.zero_positions()].any()):
                self.errors[self.slices[index]] = e[plan.key_positions()]
                self.done[index] = True
            else:
                failed.append(index)
        return failed

    def _decoder_input(self, index: int) -> tuple[qc_code.QcCode, np.ndarray, np.ndarray]:
        """Code, syndrome difference and channel LLRs of codeword ``index``: key bits by their
        intensity's error probability, the padding unknown (punctured, LLR 0) or, once
        disclosed, known (shortened). The ground's word has zeros in all slots, so the
        "error" in a padding slot is the padding bit itself and the syndrome difference stays
        the same between attempts (which lets an attempt continue from the previous one's
        state): a disclosed bit only turns its LLR to ±KNOWN_LLR."""
        plan, cw = self.received.plans[index], self.slices[index]
        r = self.revealed[index].size
        if index not in self.differences:  # the same in every attempt (see above)
            h = parity_check_matrix(plan.length, plan.m, self.cfg.code_seed)
            self.differences[index] = self.targets[index] ^ syndrome(
                h, plan.extend(self.y[cw], np.zeros(plan.d, dtype=np.uint8)))
        target = self.differences[index]
        llr = np.full(plan.length, KNOWN_LLR, dtype=np.float32)
        llr[plan.key_positions()] = self.llr[cw]
        pads = plan.pad_positions()
        llr[pads[r:]] = 0.0
        llr[pads[:r]] = np.where(self.revealed[index] != 0, -KNOWN_LLR, KNOWN_LLR)
        return qc_code.build_code(plan.length, plan.m, self.cfg.code_seed), target, llr

    def result(self) -> DecodeResult:
        ok = self.valid and all(self.done)
        return DecodeResult(ok, self.y ^ self.errors, self.errors.copy(), self.iterations)


def decode(y: np.ndarray, intensity: np.ndarray, received: Syndromes, q: np.ndarray,
           cfg: EcConfig) -> DecodeResult:
    """Ground side without reveal rounds: one decoding attempt of every codeword."""
    session = GroundDecoder(y, intensity, received, q, cfg)
    session.attempt()
    return session.result()


class SatellitePad:
    """Satellite side of the reveal rounds: its padding and how much of it is public."""

    def __init__(self, plans: tuple[Plan, ...], pad: np.ndarray) -> None:
        self.plans = plans
        self.pads = split_pad(plans, pad)
        self.revealed = [0] * len(plans)

    def disclose(self, indices: Sequence[int]) -> dict[int, np.ndarray]:
        """Next ``step`` padding bits of each requested codeword (none once all are public)."""
        out = {}
        for i in indices:
            if not 0 <= i < len(self.plans):
                continue  # a request naming no codeword of this packet discloses nothing
            a = self.revealed[i]
            b = min(self.plans[i].d, a + self.plans[i].step)
            if b > a:
                out[i] = self.pads[i][a:b]
                self.revealed[i] = b
        return out

    @property
    def revealed_bits(self) -> int:
        return sum(self.revealed)

    @property
    def leak_bits(self) -> int:
        """Key information in the syndromes and every padding bit disclosed so far."""
        return sum(p.leak(r) for p, r in zip(self.plans, self.revealed, strict=True))


def round_steps(session: GroundDecoder,
                exchange: Callable[[list[int]], dict[int, np.ndarray] | None]
                ) -> Generator[GroundDecoder, list[int], int | None]:
    """:func:`run_rounds` as a generator: yields the session whenever a decoding attempt is
    due and takes the attempt's failed codeword indices back (:func:`run_steps` runs the
    attempts of several packets in parallel threads while their messages keep a fixed order)."""
    rounds = 0
    while True:
        failed = yield session
        if not failed or not session.valid or not all(session.can_reveal(i) for i in failed):
            return rounds
        rounds += 1
        got = exchange(failed)
        if got is None:
            return None
        for index, bits in got.items():
            session.reveal(index, bits)


def run_steps(steps: Sequence[Generator[GroundDecoder, list[int], T]],
              pool: concurrent.futures.Executor | None = None) -> list[T]:
    """Drive generators like :func:`round_steps` to their return values: each step, the
    pending sessions' attempts run (in ``pool``'s threads if given: the compiled decoder
    releases the GIL), then every generator resumes in list order, so whatever they send
    (authenticated messages) comes in an order fixed by the inputs, not by thread timing."""
    results: list = [None] * len(steps)
    pending: dict[int, GroundDecoder] = {}

    def resume(i: int, failed: list[int] | None) -> None:
        try:
            pending[i] = next(steps[i]) if failed is None else steps[i].send(failed)
        except StopIteration as stop:
            results[i] = stop.value

    for i in range(len(steps)):
        resume(i, None)
    while pending:
        order = sorted(pending)
        sessions = [pending.pop(i) for i in order]
        if pool is not None and len(sessions) > 1:
            outcomes = list(pool.map(GroundDecoder.attempt, sessions))
        else:
            outcomes = [s.attempt() for s in sessions]
        for i, failed in zip(order, outcomes, strict=True):
            resume(i, failed)
    return results


def run_rounds(session: GroundDecoder,
               exchange: Callable[[list[int]], dict[int, np.ndarray] | None]) -> int | None:
    """Decode, and while codewords fail ask for more padding: ``exchange(failed)`` carries the
    ground's request and returns the satellite's disclosed bits (None: the exchange failed
    authentication). Stops when all codewords are corrected or a failed one has no padding
    left. Returns the number of reveal rounds, or None if an exchange failed."""
    return run_steps([round_steps(session, exchange)])[0]
