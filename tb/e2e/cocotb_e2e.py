"""cocotb test: the end-to-end top against the golden models, the laser link's channel in Python.

Python acts per batch only:

* the optical channel: the codes that each TDC channel's delay line samples from the pass
  window's analog arrivals (``stimulus.npz``) go to the ``code<k>`` replays in batches, each
  code released by the RTL in its own cycle; the time tagger's registers are set once at the
  start;
* the laser link, both ways (:class:`LineChannel`): the link PHY transmitter's line blocks,
  captured, go through the bit channel (:class:`models.link.channel.BitChannel`: bit errors,
  fades, bursts, slips, seeded) and come back as the deserialiser's 34-bit words through a
  replay into the other FPGA's PHY receiver, one word per cycle of its recovered clock: the
  line bits the clock recovery model samples (:func:`models.link.cdr.sampled_bits`), with the
  CDR's lock pin. Messages are framed, delimited, lost and cut on the line; the link layers
  (RTL) decide everything else.

The four clocks (each FPGA's fabric, each link's recovered clock) are made inside the simulator
from schedule files (:mod:`sim.e2e_clocks`); Python wakes on timers computed from the same
schedules (:class:`tb.e2e.clocks.TbClock`), always at a falling edge of the clock whose inputs
it writes. Captures of the satellite carry its cycle; they are turned into ground cycles on
arrival, so every scoreboard counts in ground cycles.
Every captured stream is compared with :class:`tb.e2e.scoreboard.E2eScoreboard`; the result goes
to ``params["result_path"]``.
"""

import functools
import json
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import Event, ReadOnly

from models.constants import FRAME_PULSES
from models.ground.timing import CH_SYNC
from models.link import cdr, channel, line_code
from models.link.line_code import BLOCK_BITS
from rtl.e2e.replay import batch_record, entry_rows, replay_file, rows_record
from rtl.e2e.top import (
    CAPTURES,
    CODE_REPLAYS,
    LINE_CAPTURES,
    LINE_DOMAINS,
    LINE_ENTRY_WORDS,
    LINE_REPLAYS,
    LINE_WORD_BITS,
    LINK_STATUS,
    PHY_STATUS,
    POWER_ON_CYCLES,
    REPLAYS,
    SAT_CAPTURES,
    E2eParams,
    capture_layout,
    replay_depth,
)
from rtl.link.layouts import RxWord
from tb.capture import CaptureError, RecordCollector, beats_of_binstr, field
from tb.distill.cocotb_keys import E2E_KEYS_FILE
from tb.e2e.clocks import TbClock
from tb.e2e.link_check import Captured, LineRun, check_link
from tb.e2e.progress import Progress
from tb.e2e.scoreboard import LOCK_FRAMES, E2eScoreboard
from tb.testbench import TB

DRAIN_FRAMES = 4
POLL_CYCLES = 2048  # the line captures read every 8192 pulses (1/8 of a sync frame)
SLOW_POLLS = 2  # the other captures every 4096 cycles
# Only the link lines' captures are read at every poll (the bit channel feeds the receivers
# from them); nothing waits for the others, which are read every SLOW_POLLS-th poll.
SLOW_CAPTURES = tuple(name for name in CAPTURES if name not in LINE_CAPTURES.values())
# Link results are due by the window's end when their input came this long before it (a
# frame's reports through the satellite sifting, a sift message through the ground's).
LINK_MARGIN_CYCLES = 2048
RX_WORD_BITS = RxWord.size
COUNTER_WORD = 32  # bits per channel in the time tagger's per-channel counters and registers
TDC_MARGIN = 64  # cycles from a sampled code to its raw hit's capture (replay, channel, funnel)
FEED_SLICE = 4096  # entries handed to an injector's queue at once
# A line word's entry must be in its replay's FIFO before its due cycle: a batch moves in one
# entry per cycle after its strobe, and a word released late would leave a hole in the
# recovered clock's words (counted in ``late``, a mismatch).
LATE_MARGIN = 3
# Ground cycles from stopping the lines to reading the receivers' status: 8 recovered cycles.
STATUS_SETTLE_CYCLES = 8 * 32


def values(beats: np.ndarray) -> np.ndarray:
    """The flat payload integers of a ``[n, width <= 64]`` bit matrix."""
    return field(beats, 0, beats.shape[1]).astype(np.int64)


class Capture:
    """One capture's record file (:class:`tb.capture.BatchRecordReader`), handed to ``handle``
    on every poll as ``(payload bit matrix, capture cycle of each beat)``; at the end of the
    window also the beats of its unfinished batch."""

    def __init__(self, dut, name: str, width: int, depth: int, handle, stamp_to_ground=None
                 ) -> None:
        self.name = name
        self.stamp_to_ground = stamp_to_ground
        layout = capture_layout(name)
        # looked up once: Amaranth recomputes layout sizes and field widths on every access
        self.size = layout.size
        self.cycle_offset, self.cycle_width = layout["cycle"].offset, layout["cycle"].width
        self.collector = RecordCollector(name, self.size, depth, 0,
                                         lambda beats, _tags: self.hand_over(beats))
        self.batch, self.fill = getattr(dut, f"{name}_batch"), getattr(dut, f"{name}_fill")
        self.batches = getattr(dut, f"{name}_batches")
        self.width, self.depth, self.handle = width, depth, handle

    def hand_over(self, beats: np.ndarray) -> None:
        cycles = field(beats, self.cycle_offset, self.cycle_width).astype(np.int64)
        if self.stamp_to_ground is not None:
            cycles = self.stamp_to_ground(cycles)
        self.handle(beats[:, :self.width], cycles)

    def poll(self, limit: int | None = None) -> None:
        """Hand over the batches completed since the last poll (at most ``limit`` in all)."""
        self.collector.poll(limit)

    def snapshot(self) -> tuple[int, int, str]:
        """Completed batches, beats of the unfinished one and the batch register (ReadOnly)."""
        # depth 1: ``fill`` has no bits (Yosys writes ``[-1:0]``, which Icarus reads as X)
        fill = int(self.fill.value) if self.depth > 1 else 0
        return int(self.batches.value), fill, str(self.batch.value)

    def finish(self, snapshot: tuple[int, int, str]) -> None:
        """Hand over everything captured up to ``snapshot``: the window's complete stream. Call
        it at least two cycles after the snapshot (a batch is in its file one cycle after it
        completes)."""
        batches, fill, binstr = snapshot
        self.poll(limit=batches)
        self.collector.reader.close()
        if self.collector.batches != batches:
            raise CaptureError(f"capture {self.name}: {self.collector.batches} batch records in "
                               f"the file, {batches} completed in the RTL")
        if fill:
            self.hand_over(beats_of_binstr(binstr, self.size)[:fill])


class Poller:
    """Reads every capture's record file once per ``cycles`` (the link channel's reaction time);
    the captures in ``slow`` (nothing on the link waits for them) once per
    :data:`SLOW_POLLS` of those: fewer, larger batches for their scoreboards."""

    def __init__(self, clock: TbClock, captures: list[Capture], cycles: int,
                 progress: Progress | None = None, slow: tuple[str, ...] = ()) -> None:
        self.clock, self.cycles = clock, cycles
        self.captures = [c for c in captures if c.name not in slow]
        self.slow = [c for c in captures if c.name in slow]
        self.progress = progress
        self.open = True

    async def run(self) -> None:
        polls = 0
        while self.open:
            await self.clock.cycles(self.cycles)  # a falling edge: no race with the RTL
            if not self.open:
                return
            polls += 1
            for capture in self.captures if polls % SLOW_POLLS else self.captures + self.slow:
                capture.poll()
            if self.progress is not None:
                self.progress.update(self.clock.now())


class Injector:
    """Feeds (payload, due cycle) entries to the ``<name>`` replay, one batch per wake: the batch
    is appended to the replay's file (``rtl.e2e.replay.replay_file``, flushed), then strobed.
    Payloads are integers, or with ``rows`` the entries' record bytes
    (:func:`rtl.e2e.replay.entry_rows`). Due cycles and wakes are in the replay's clock."""

    def __init__(self, dut, name: str, width: int, batch: int, depth: int, clock: TbClock,
                 rows: bool = False) -> None:
        self.clock = clock
        self.depth = depth
        self.late = 0  # entries strobed too close to their due cycle (LATE_MARGIN)
        self.path = Path(replay_file(name))  # in the simulator's working directory
        self.file = self.path.open("wb")
        self.count = getattr(dut, f"{name}_count")
        self.strobe, self.hungry = getattr(dut, f"{name}_strobe"), getattr(dut, f"{name}_hungry")
        self.width, self.batch, self.rows = width, batch, rows
        self.queue: deque[tuple[int | bytes, int]] = deque()
        self.added = Event()
        self.last_due = 0
        self.loaded = 0
        self.batches = 0  # batches strobed in (the RTL's ``<name>_accepted`` must agree)
        self.loaded_due: deque[int] = deque()  # due cycles of loaded entries, from `passed` on
        self.passed = 0
        self.strobe.value = 0
        self.count.value = 0

    def put_each(self, payloads: list[int], dues: list[int]) -> None:
        """Queue ``payloads[i]`` due at ``dues[i]`` (each not before the entries queued
        earlier)."""
        for payload, due in zip(payloads, dues, strict=True):
            self.last_due = max(int(due), self.last_due)
            self.queue.append((int(payload), self.last_due))
        self.added.set()

    def room_cycle(self) -> int:
        """Cycle from which the replay can have room for another batch: the entry whose release
        leaves ``depth - batch`` in its FIFO is due then (no entry leaves before its due)."""
        need = self.loaded - (self.depth - self.batch)  # entries that must have left
        while self.passed < need - 1:
            self.loaded_due.popleft()
            self.passed += 1
        return self.loaded_due[0] + 1 if need > 0 else 0

    async def run(self) -> None:
        # Every wake is at a falling clock edge's time (inputs are written only there: a strobe
        # written in a rising edge's time step was once lost) and only timers wake it: a
        # value-change callback (RisingEdge(hungry)) would cost the simulator work at every
        # time step while it waits, and the tags replay waits nearly all the time.
        await self.clock.until(2 * POWER_ON_CYCLES)  # a batch loaded in reset would be lost
        while True:
            if not self.queue:
                self.added.clear()
                await self.added.wait()
                await self.clock.cycles(1)  # set from a ReadOnly callback: leave that phase
                continue
            if not int(self.hungry.value):
                # no room until the entry that frees it is due; else (a batch still moving,
                # the ground chain holding the stream) look again a batch's cycles later
                wait = max(self.room_cycle() - self.clock.now(), self.batch)
                await self.clock.cycles(wait)
                continue
            take = [self.queue.popleft() for _ in range(min(self.batch, len(self.queue)))]
            now = self.clock.now()
            self.late += sum(due <= now + i + LATE_MARGIN for i, (_, due) in enumerate(take))
            payloads = [p for p, _ in take]
            self.file.write(rows_record(payloads, self.width, self.batch) if self.rows else
                            batch_record(payloads, [d for _, d in take], self.width, self.batch))
            self.file.flush()
            self.count.value = len(take)
            self.strobe.value = 1
            await self.clock.cycles(1)  # the next falling edge: one rising edge took it
            self.strobe.value = 0
            self.loaded += len(take)
            self.loaded_due.extend(d for _, d in take)
            self.batches += 1


def expect_time_tagger(board: E2eScoreboard, stim) -> None:
    """The time tagger model's streams (:func:`sim.e2e_scenario.build_stimulus`)."""
    channels = range(len(CODE_REPLAYS))
    board.expect_split("raw_hits", [
        {name: stim[f"raw{k}_{name}"] for name in ("coarse", "fine", "calibration")}
        for k in channels])
    board.expect_split("cal_tags", [
        {"time": stim[f"cal{k}_time"], "frame": np.zeros_like(stim[f"cal{k}_time"])}
        for k in channels])
    board.expect_sequence("sync_tags", {
        "time": stim["sync_time"], "frame": stim["sync_frame"],
        "channel": np.full(len(stim["sync_time"]), CH_SYNC, dtype=np.uint64)})
    board.expect_sequence("merged_tags", {name: stim[f"tag_{name}"]
                                          for name in ("time", "channel", "frame")})


def set_registers(dut, registers: dict[str, int | list[int]]) -> None:
    """The time tagger's registers (``tdc_<name>`` inputs; a list is one 32-bit word per
    channel, channel 0 lowest; a signed value in two's complement)."""
    for name, value in registers.items():
        handle = getattr(dut, f"tdc_{name}")
        if isinstance(value, list):
            value = sum(int(v) << (COUNTER_WORD * k) for k, v in enumerate(value))
        handle.value = int(value) & ((1 << len(handle)) - 1)


def read_counters(dut, model: dict[str, int | list[int]]) -> dict[str, int | list[int]]:
    """The time tagger's counters (``tdc_<name>`` outputs) shaped as the model's."""
    out: dict[str, int | list[int]] = {}
    for name, want in model.items():
        value = int(getattr(dut, f"tdc_{name}").value)
        out[name] = ([value >> (COUNTER_WORD * k) & ((1 << COUNTER_WORD) - 1)
                      for k in range(len(want))] if isinstance(want, list) else value)
    return out


async def feed(injector: Injector, payloads, due: np.ndarray, max_cycles: int) -> None:
    """Hand (payload, due cycle) entries to ``injector`` in slices, keeping its queue short
    (``payloads(a, b)``: the payload integers of entries ``a`` to ``b``)."""
    clock = injector.clock
    for start in range(0, len(due), FEED_SLICE):
        end = min(start + FEED_SLICE, len(due))
        injector.queue.extend(zip(payloads(start, end), due[start:end].tolist(), strict=True))
        injector.added.set()
        while len(injector.queue) > FEED_SLICE // 4 and clock.now() < max_cycles:
            wait = int(injector.queue[FEED_SLICE // 8][1]) - clock.now()
            await clock.cycles(max(wait, injector.batch))


@functools.lru_cache(maxsize=64)
def burst_noise(faults: channel.Faults, start: int, length: int) -> np.ndarray:
    """Noise of a burst, drawn once: the channel asks for it at every piece the burst overlaps,
    and a dead link's burst spans the whole window (millions of bits, every capture batch)."""
    return channel.Faults.burst_bits(faults, start, length)


@dataclass(frozen=True)
class LineFaults(channel.Faults):
    """:class:`models.link.channel.Faults` with each burst's noise drawn once
    (:func:`burst_noise`)."""

    def burst_bits(self, start: int, length: int) -> np.ndarray:
        return burst_noise(self, start, length)


def faults_of(spec: dict) -> LineFaults:
    """The line faults from the run's parameters (lists from JSON)."""
    return LineFaults(flips=tuple(spec["flips"]),
                          bursts=tuple(tuple(b) for b in spec["bursts"]),
                          slips=tuple(tuple(s) for s in spec["slips"]), seed=spec["seed"])


def code_payloads(packed: np.ndarray, due: np.ndarray, width: int):
    """``payloads(a, b)`` for :func:`feed` into a code replay: sampled codes (packed bytes, tap
    0 in bit 0 of byte 0) with their due cycles as record rows (``Injector(rows=True)``)."""
    def payloads(start: int, end: int) -> list[bytes]:
        return entry_rows(packed[start:end], due[start:end], width)
    return payloads


class LineChannel:
    """One direction of the laser link: the transmitter's captured line blocks through the bit
    channel (:class:`models.link.channel.BitChannel`), then sampled by the receiver's clock
    recovery: word ``j`` of the recovered clock is the received bits
    :func:`models.link.cdr.sampled_bits` names (a CDR in lock takes each bit once; out of lock
    it drops or repeats bits; in the dark it sees noise), with the CDR's lock pin of block
    ``j`` above it, at recovered cycle ``first_due + j`` (every cycle a word, once the first
    is due); two words per replay entry (``rtl.e2e.top.LINE_ENTRY_WORDS``). Python acts once
    per capture batch of blocks."""

    def __init__(self, injector: Injector, faults: channel.Faults, plan: dict,
                 recovery: cdr.Recovery) -> None:
        self.injector, self.recovery = injector, recovery
        self.offset, self.first_due = plan["offset"], plan["first_due"]
        self.channel = channel.BitChannel(faults)
        self.sent: list[np.ndarray] = []
        blocks = len(recovery.period_ps)
        self.received = np.zeros((blocks + 64) * BLOCK_BITS + len(faults.slips), dtype=np.uint8)
        self.filled = 0
        self.fed: list[np.ndarray] = []  # each word's bits, in order
        self.pins: list[np.ndarray] = []  # the lock pin with each word
        self.words = 0
        self.closed = False  # the window is over: send nothing more

    def on_blocks(self, beats: np.ndarray, _cycles: np.ndarray) -> None:
        words = field(beats, 0, BLOCK_BITS).astype(np.uint64)
        self.sent.append(words)
        if self.closed:
            return
        bits = self.channel.push(line_code.words_to_bits(words))
        bits = bits[:len(self.received) - self.filled]
        self.received[self.filled:self.filled + len(bits)] = bits
        self.filled += len(bits)
        first = self.words
        end = min(len(self.recovery.period_ps), (self.filled - self.offset) // BLOCK_BITS - 1)
        if end <= first:
            return
        sampled = cdr.sampled_bits(self.recovery, self.offset, first, end).reshape(
            -1, BLOCK_BITS)
        arrived = sampled.max(axis=1) < self.filled
        n = len(arrived) if arrived.all() else int(np.argmin(arrived))
        n -= n % LINE_ENTRY_WORDS
        if not n:
            return
        bits = self.received[np.maximum(sampled[:n], 0)]
        pins = self.recovery.locked[first:first + n]
        words = (line_code.bits_to_words(bits.ravel())
                 | (pins.astype(np.uint64) << np.uint64(BLOCK_BITS))).tolist()
        entries = [sum(w << (LINE_WORD_BITS * i)
                       for i, w in enumerate(words[k:k + LINE_ENTRY_WORDS]))
                   for k in range(0, n, LINE_ENTRY_WORDS)]
        self.injector.put_each(entries, (self.first_due + np.arange(
            first, first + n, LINE_ENTRY_WORDS)).tolist())
        self.fed.append(bits.ravel())
        self.pins.append(pins)
        self.words += n

    def run(self, released: int, got: Captured, status: dict[str, int]) -> LineRun:
        """The direction after the window: ``released`` words reached the receiver."""
        released *= LINE_ENTRY_WORDS  # entries to words
        bits = np.concatenate(self.fed) if self.fed else np.zeros(0, np.uint8)
        pins = np.concatenate(self.pins)[:released] if self.pins else np.zeros(0, bool)
        return LineRun(np.concatenate(self.sent) if self.sent else np.zeros(0, np.uint64),
                       bits[:released * BLOCK_BITS], got, status,
                       pins=pins, late=self.injector.late)


class Timeline:
    """What the run's picture shows (``sim.timeline``): cycles of sync events and of packet
    closes, reports per sync frame."""

    def __init__(self) -> None:
        self.sync_cycles: list[int] = []
        self.report_pulses: list[np.ndarray] = []  # counted per frame once, at the end
        self.packet_cycles: dict[str, list[int]] = {"satellite": [], "ground": []}

    def on_sync(self, cycles: np.ndarray) -> None:
        self.sync_cycles.extend(cycles.tolist())

    def on_reports(self, pulses: np.ndarray) -> None:
        self.report_pulses.append(pulses)

    def on_key(self, side: str, beats: np.ndarray, cycles: np.ndarray) -> None:
        last = beats[:, CAPTURES["skey"]["last"].offset]  # the packet's last key beat
        self.packet_cycles[side].extend(cycles[last.astype(bool)].tolist())

    def as_dict(self) -> dict:
        pulses = (np.concatenate(self.report_pulses) if self.report_pulses
                  else np.zeros(0, dtype=np.uint64))
        frames, counts = np.unique(pulses // np.uint64(FRAME_PULSES), return_counts=True)
        return {"sync_cycles": self.sync_cycles,
                "report_frames": {str(f): c for f, c in zip(frames.tolist(), counts.tolist(),
                                                            strict=True)},
                "packet_cycles": self.packet_cycles}


@cocotb.test()
async def e2e_matches_models(dut):
    tb = TB(dut, clock_ps=None)  # the clock runs inside the simulator
    p = tb.params
    params = E2eParams(**p["top"])
    stim = np.load(p["stimulus"])
    if p.get("corrupt"):
        stim = dict(stim)
        stim["det_bit"] = stim["det_bit"].copy()
        first, step = p["corrupt"]
        stim["det_bit"][first::step] ^= 1  # a deliberately wrong model: scoreboards must object
    if p.get("corrupt_hit"):
        tdc_channel, index = p["corrupt_hit"]
        stim = dict(stim)
        fine = stim[f"raw{tdc_channel}_fine"] = stim[f"raw{tdc_channel}_fine"].copy()
        fine[index] ^= 1  # one wrong raw hit in the model: the raw-hit scoreboard must object
    board = E2eScoreboard(params, stim["det_pulse"], stim["det_basis"], stim["det_bit"])
    widths = p["widths"]
    clocks = {domain: TbClock(spec) for domain, spec in p["clocks"].items()}
    ground, sat = clocks["sync"], clocks["sat"]
    replay_clock = {LINE_REPLAYS[d]: clocks[rec] for d, (rec, _) in LINE_DOMAINS.items()}

    def sat_to_ground(stamps: np.ndarray) -> np.ndarray:
        """A satellite capture's cycle as the ground's: the ground's counter when the
        satellite's edge that took the beat came (the stamp counts the edges before it)."""
        return ground.edges_before(sat.rise_ps(stamps))

    injectors = {name: Injector(dut, name, widths[name], params.replay_batch,
                                replay_depth(params, name), replay_clock.get(name, ground),
                                rows=name in CODE_REPLAYS)
                 for name in REPLAYS}
    expect_time_tagger(board, stim)
    end_cycle = int(stim["end_cycle"])
    arrays = np.load(p["clock_arrays"])
    lines = {d: LineChannel(injectors[LINE_REPLAYS[d]], faults_of(p["line"][d]["faults"]),
                            p["line_clocks"][d], cdr.Recovery(
                                arrays[f"{d}_period"], arrays[f"{d}_phase"],
                                arrays[f"{d}_locked"], p["line_clocks"][d]["cdr_lock_block"]))
             for d in LINE_REPLAYS}
    collected = {name: Captured() for name in ("dnw", "dec", "dsy", "ent", "skey", "gkey")}
    up_words, up_heads = Captured(), []
    timeline = Timeline()

    def on_frames(beats: np.ndarray, cycles: np.ndarray) -> None:
        board.check_frames(beats, cycles)
        timeline.on_sync(cycles)

    def on_reports(beats: np.ndarray, cycles: np.ndarray) -> None:
        timeline.on_reports(board.check_reports(beats, cycles)[:, 0])

    def on_up_words(beats: np.ndarray, cycles: np.ndarray) -> None:
        up_words.add(values(beats[:, :RX_WORD_BITS]), cycles)
        up_heads.extend(field(beats, RX_WORD_BITS, 64).tolist())

    def collect(name: str, side: str | None = None):
        def handle(beats: np.ndarray, cycles: np.ndarray) -> None:
            collected[name].add(values(beats), cycles)
            if side is not None:
                timeline.on_key(side, beats, cycles)
        return handle

    handlers = {
        "sig": board.check_signatures, "frm": on_frames, "rep": on_reports,
        "ans": board.check_answers, "ent": collect("ent"), "dec": collect("dec"),
        "skey": collect("skey", "satellite"), "gkey": collect("gkey", "ground"),
        "upl": lines["up"].on_blocks, "dnl": lines["dn"].on_blocks, "upw": on_up_words,
        "dnw": collect("dnw"), "dsy": collect("dsy"),
        "raw": lambda beats, cycles: board.check_split("raw_hits", beats, cycles),
        "cal": lambda beats, cycles: board.check_split("cal_tags", beats, cycles),
        "sync": lambda beats, cycles: board.check_sequence("sync_tags", beats, cycles),
        "tag": lambda beats, cycles: board.check_sequence("merged_tags", beats, cycles),
    }
    captures = [Capture(dut, name, widths[name], params.capture_depth(name), handlers[name],
                        sat_to_ground if name in SAT_CAPTURES else None)
                for name in CAPTURES]
    truncated = bool(p.get("max_cycles")) and end_cycle > p["max_cycles"]
    if truncated:
        end_cycle = p["max_cycles"]
    progress = (Progress(end_cycle * params.lanes / FRAME_PULSES, params.lanes, board)
                if p.get("progress") else None)
    poller = Poller(ground, captures, POLL_CYCLES, progress, slow=SLOW_CAPTURES)
    set_registers(dut, p["tdc_registers"])
    await ground.until(2 * POWER_ON_CYCLES)  # a batch loaded in reset would be lost
    for task in (poller, *injectors.values()):
        cocotb.start_soon(task.run())
    wall, cpu = time.perf_counter(), time.process_time()
    feed_until = p.get("max_cycles") or 1 << 62
    for name in CODE_REPLAYS:
        code_due = stim[f"{name}_due"].astype(np.int64)
        cocotb.start_soon(feed(injectors[name], code_payloads(stim[name], code_due, widths[name]),
                               code_due, feed_until))
    await ground.until(end_cycle)
    await ReadOnly()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if progress is not None:
        progress.close(ground.now())
    # The window ends here for every stream: what the RTL captured up to now (the unfinished
    # batches included) against the model outputs of what the link delivered up to now.
    poller.open = False
    for line in lines.values():
        line.closed = True
    snapshots = [capture.snapshot() for capture in captures]
    replays = {name: tuple(int(getattr(dut, f"{name}_{port}").value) for port in (
        "accepted", "dropped", "short_reads")) for name in REPLAYS}
    strobed = {name: injector.batches for name, injector in injectors.items()}
    tap_overflow = int(dut.tap_overflow.value)
    sat_safe = int(dut.sat_safe.value)
    counters = read_counters(dut, p["tdc_counters"])
    status = {name: int(getattr(dut, name).value) for name in (*LINK_STATUS, "locked",
                                                               "tap_overflow", "sat_safe")}
    # The lines stop (each at a falling edge of its recovered clock), then each receiver's status
    # crosses into its fabric (a snapshot a few recovered cycles old) and is read with the words
    # the receiver got. A batch is in its capture file a cycle after it completes.
    await ground.cycles(1)
    for d, name in LINE_REPLAYS.items():
        clock = clocks[LINE_DOMAINS[d][0]]
        if clock.now():  # a recovered clock that has not started yet has nothing to race
            await clock.cycles(1)
        getattr(dut, f"{name}_hold").value = 1
    await ground.cycles(STATUS_SETTLE_CYCLES)
    await ReadOnly()
    released = {d: int(getattr(dut, f"{name}_released").value)
                for d, name in LINE_REPLAYS.items()}
    phy_status = {d: {name: int(getattr(dut, f"{d}_{name}").value) for name in PHY_STATUS}
                  for d in LINE_REPLAYS}
    await ground.cycles(1)
    for capture, snapshot in zip(captures, snapshots, strict=True):
        capture.finish(snapshot)

    board.check_replays({name: (strobed[name], *replays[name]) for name in REPLAYS})
    board.check_taps(tap_overflow)
    board.check_safe_pulses(sat_safe)
    if not truncated:  # the model's counters are those at the end of the whole window
        board.check_counters(counters, p["tdc_counters"])
    pulses = int(stim["pulses"])
    up = lines["up"].run(released["up"], up_words, phy_status["up"])
    up.heads = up_heads
    dn = lines["dn"].run(released["dn"], collected["dnw"], phy_status["dn"])
    dn.syncs = collected["dsy"]
    link = check_link(board.tallies, params, board.reports, board.det_bit,
                      pulses // FRAME_PULSES, up, dn, collected, status["sat_head"], end_cycle,
                      LINK_MARGIN_CYCLES)
    if truncated:  # a short smoke window (Icarus): only the symbol stream is due in full
        board.shortfall("symbols", (end_cycle - 2 * POWER_ON_CYCLES) // params.signature_beats, 1)
        board.split_shortfall("raw_hits", [
            int(np.count_nonzero(stim[f"raw{k}_cycle"] + TDC_MARGIN < end_cycle))
            for k in range(len(CODE_REPLAYS))])
    else:
        # The captures' unfinished batches are read too (Capture.finish): no slack for them.
        board.shortfall("reports", len(board.det_pulse), 0)
        board.shortfall("symbols", pulses // (params.signature_beats * params.lanes), 0)
        board.shortfall("sync_frames", pulses // FRAME_PULSES - LOCK_FRAMES, 0)
        board.split_shortfall("raw_hits")
        board.split_shortfall("cal_tags")
        board.sequence_shortfall("sync_tags")
        board.sequence_shortfall("merged_tags")
    board.key_bits.update(link.get("key_bits", {}))
    cycles = ground.now()
    result = board.summary()
    result.update({
        "pulses": pulses,
        "cycles": cycles,
        "truncated": truncated,
        "pulses_simulated": cycles * params.lanes,
        "sim_wall_s": wall,
        "sim_cpu_s": cpu,  # the simulator process's CPU time: robust to other load
        "detections": len(board.det_pulse),
        "sifted_bits": {"satellite": board.tallies["satellite_key"].compared,
                        "ground": board.tallies["ground_key"].compared},
        "packets": {"satellite": status["sat_packets"], "ground": status["gnd_packets"]},
        "counters": status,
        "tdc_counters": counters,
        "link": link,
        "timeline": {**timeline.as_dict(), "uplink_missing": link.get("missing_frames", [])},
        "replayed": {name: injector.loaded for name, injector in injectors.items()},
        "replay_batches": {name: {"sent": strobed[name], "accepted": accepted,
                                  "dropped": dropped, "short_reads": short}
                           for name, (accepted, dropped, short) in replays.items()},
    })
    Path(p["result_path"]).write_text(json.dumps(result, indent=2, default=int))
    np.savez(Path(p["result_path"]).with_name(E2E_KEYS_FILE), **{
        side: np.asarray(collected[name].values, dtype=np.int64)
        for side, name in (("satellite", "skey"), ("ground", "gkey"))})
    if not (p.get("corrupt") or p.get("corrupt_hit")):
        assert board.mismatches == 0, json.dumps(result["streams"], indent=1)
