"""cocotb test: the end-to-end top against the golden models, with the link loop in Python.

Python acts per batch and per frame only:

* the channel: the codes that each TDC channel's delay line samples from the pass window's
  analog arrivals (``stimulus.npz``) go to the ``code<k>`` replays in batches, each code
  released by the RTL in its own cycle; the time tagger's registers are set once at the start;
* the uplink: when every report of sync frame ``k`` has been captured, the ground's uplink frame
  ``k`` (``models.sifting.messages.encode_uplink``) is sent through the model link
  (:class:`models.sifting.classical_link.Link`), repeated while the frame period's capacity allows;
  the first copy that arrives intact is replayed into the satellite at its arrival cycle; a frame
  with no intact copy is missing: the satellite declares it at the next arrival (the sequence gap)
  or when its RND cache head passes the frame's deadline
  (``models.sifting.classical_link.missing_deadline``), whichever comes first; a copy arriving after
  the deadline is stale (``uplink_stale``);
* the downlink: the satellite's sift entries of each frame (or "missing") form a sift message,
  repeated every frame period until a copy arrives intact, then replayed into the ground in
  sequence order.

The clock is made inside the simulator (``tb.runner.run_cocotb(internal_clock_ps=...)``).
Every captured stream is compared with :class:`tb.e2e.scoreboard.E2eScoreboard`; the result goes
to ``params["result_path"]``.
"""

import json
import time
from collections import deque
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import Event, FallingEdge, ReadOnly, Timer
from cocotb.utils import get_sim_time

from models.constants import FABRIC_CLOCK_PS, FRAME_PULSES, PULSE_PERIOD_PS
from models.ground.timing import CH_SYNC
from models.sifting.classical_link import Link, LinkConfig, missing_deadline
from models.sifting.entries import SiftCode
from models.sifting.messages import decode_sift, decode_uplink, encode_sift, encode_uplink
from rtl.common.payload import pack_array
from rtl.e2e.replay import batch_record, entry_rows, replay_file, rows_record
from rtl.e2e.top import (
    CAPTURES,
    CODE_REPLAYS,
    POWER_ON_CYCLES,
    REPLAYS,
    E2eParams,
    capture_layout,
    replay_depth,
)
from rtl.sifting.layouts import Report
from tb.capture import CaptureError, RecordCollector, beats_of_binstr, field
from tb.e2e.progress import Progress
from tb.e2e.scoreboard import LOCK_FRAMES, E2eScoreboard
from tb.testbench import TB

CLOCK_PS = FABRIC_CLOCK_PS
CYCLE_S = CLOCK_PS * 1e-12
FRAME_S = FRAME_PULSES * PULSE_PERIOD_PS * 1e-12
OFFSET_BITS = 16  # uplink report offsets within a sync frame of 2**16 pulses
MAX_SENDS = 10_000
DRAIN_FRAMES = 4
POLL_CYCLES = 512  # record files read every 2048 pulses (1/32 of a sync frame)
SLOW_POLLS = 8  # the TDC's captures are read every 8th poll
TDC_CAPTURES = ("raw", "cal", "sync", "tag")
SIFT_MARGIN = 256  # cycles from a sift message's arrival to its last key beat (FIFO, sifter)
COUNTER_WORD = 32  # bits per channel in the time tagger's per-channel counters and registers
TDC_MARGIN = 64  # cycles from a sampled code to its raw hit's capture (replay, channel, funnel)
FEED_SLICE = 4096  # entries handed to an injector's queue at once
MISSING_CODE = int(SiftCode.MISSING)


def now_cycles() -> int:
    return int(get_sim_time(unit="ps")) // CLOCK_PS


def values(beats: np.ndarray) -> np.ndarray:
    """The flat payload integers of a ``[n, width <= 64]`` bit matrix."""
    return field(beats, 0, beats.shape[1]).astype(np.int64)


class Capture:
    """One capture's record file (:class:`tb.capture.BatchRecordReader`), handed to ``handle``
    on every poll as ``(payload bit matrix, capture cycle of each beat)``; at the end of the
    window also the beats of its unfinished batch."""

    def __init__(self, dut, name: str, width: int, depth: int, handle) -> None:
        self.name = name
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
        self.handle(beats[:, :self.width],
                    field(beats, self.cycle_offset, self.cycle_width).astype(np.int64))

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
    """Reads every capture's record file once per ``cycles`` (the link loop's reaction time);
    the captures in ``slow`` (nothing in the link loop waits for them) once per
    :data:`SLOW_POLLS` of those: fewer, larger batches for their scoreboards."""

    def __init__(self, clk, captures: list[Capture], cycles: int,
                 progress: Progress | None = None, slow: tuple[str, ...] = ()) -> None:
        self.clk, self.cycles = clk, cycles
        self.captures = [c for c in captures if c.name not in slow]
        self.slow = [c for c in captures if c.name in slow]
        self.progress = progress
        self.open = True

    async def run(self) -> None:
        await FallingEdge(self.clk)  # then every wake is a falling edge: no race with the RTL
        polls = 0
        while self.open:
            await Timer(self.cycles * CLOCK_PS, unit="ps")
            if not self.open:
                return
            polls += 1
            for capture in self.captures if polls % SLOW_POLLS else self.captures + self.slow:
                capture.poll()
            if self.progress is not None:
                self.progress.update(now_cycles())


class Injector:
    """Feeds (payload, due cycle) entries to the ``<name>`` replay, one batch per wake: the batch
    is appended to the replay's file (``rtl.e2e.replay.replay_file``, flushed), then strobed.
    Payloads are integers, or with ``rows`` the entries' record bytes
    (:func:`rtl.e2e.replay.entry_rows`)."""

    def __init__(self, dut, name: str, width: int, batch: int, depth: int,
                 rows: bool = False) -> None:
        self.clk = dut.clk
        self.depth = depth
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

    def put(self, payloads, due: int) -> int:
        """Queue ``payloads`` due at cycle ``due`` (not before earlier entries); return that."""
        due = max(int(due), self.last_due)
        self.last_due = due
        self.queue.extend((int(p), due) for p in payloads)
        self.added.set()
        return due

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
        while True:
            if not self.queue:
                self.added.clear()
                await self.added.wait()
                await FallingEdge(self.clk)  # set from a ReadOnly callback: leave that phase
                continue
            if not int(self.hungry.value):
                # no room until the entry that frees it is due; else (a batch still moving,
                # the ground chain holding the stream) look again a batch's cycles later
                wait = max(self.room_cycle() - now_cycles(), self.batch)
                await Timer(wait * CLOCK_PS, unit="ps")
                continue
            take = [self.queue.popleft() for _ in range(min(self.batch, len(self.queue)))]
            payloads = [p for p, _ in take]
            self.file.write(rows_record(payloads, self.width, self.batch) if self.rows else
                            batch_record(payloads, [d for _, d in take], self.width, self.batch))
            self.file.flush()
            self.count.value = len(take)
            self.strobe.value = 1
            await Timer(CLOCK_PS, unit="ps")  # the next falling edge: one rising edge took it
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
    for start in range(0, len(due), FEED_SLICE):
        end = min(start + FEED_SLICE, len(due))
        injector.queue.extend(zip(payloads(start, end), due[start:end].tolist(), strict=True))
        injector.added.set()
        while len(injector.queue) > FEED_SLICE // 4 and now_cycles() < max_cycles:
            wait = int(injector.queue[FEED_SLICE // 8][1]) - now_cycles()
            await Timer(max(wait, injector.batch) * CLOCK_PS, unit="ps")


def code_payloads(packed: np.ndarray, due: np.ndarray, width: int):
    """``payloads(a, b)`` for :func:`feed` into a code replay: sampled codes (packed bytes, tap
    0 in bit 0 of byte 0) with their due cycles as record rows (``Injector(rows=True)``)."""
    def payloads(start: int, end: int) -> list[bytes]:
        return entry_rows(packed[start:end], due[start:end], width)
    return payloads


class LinkLoop:
    """Uplink frames, satellite sequence handling, downlink sift messages (see module doc)."""

    def __init__(self, board: E2eScoreboard, up: Injector, dn: Injector, up_link: Link,
                 dn_link: Link) -> None:
        self.board, self.up, self.dn = board, up, dn
        self.up_link, self.dn_link = up_link, dn_link
        pulses = board.det_pulse.astype(np.int64)
        self.bounds = np.searchsorted(pulses, np.arange(pulses[-1] // FRAME_PULSES + 2 if len(
            pulses) else 1) * FRAME_PULSES)
        self.captured: list[np.ndarray] = []
        self.n_captured = 0
        self.next_frame = 0
        self.sat_expect = 0  # next uplink sequence number the satellite needs
        self.sat_index = np.zeros(0, dtype=np.int64)  # model index of each uplinked report
        self.model_codes = np.zeros(0, dtype=np.uint8)
        self.ground_due: list[tuple[int, int]] = []  # (due cycle, key bits) per sift message
        # seq -> (first report, count, delivered to the satellite, time the message is ready)
        self.messages: dict[int, tuple[int, int, bool, float]] = {}
        self.next_message = 0
        self.entries = np.zeros(0, dtype=np.int64)
        self.stats = {"uplink_frames": 0, "uplink_missing": 0, "uplink_stale": 0,
                      "uplink_copies": 0, "sift_messages": 0, "sift_copies": 0,
                      "reports_uplinked": 0}
        self.missing_frames: list[int] = []  # uplink frames the satellite never got in time
        self.closed = False  # the window is over: check what comes, send nothing more
        self.lanes = board.params.lanes
        self.cache_pulses = board.params.lanes * board.params.cache_rows

    def deadline_s(self, seq: int) -> float:
        """When the satellite declares uplink frame ``seq`` missing: its RND cache head (4
        pulses per cycle from the end of the power-on reset) reaches the frame's deadline."""
        pulses = missing_deadline(seq, FRAME_PULSES, self.cache_pulses)
        return (pulses // self.lanes + 2 * POWER_ON_CYCLES) * CYCLE_S

    def on_reports(self, beats: np.ndarray, cycles: np.ndarray) -> np.ndarray:
        """Check a batch of reports, send the uplink frames they complete; return the reports
        as ``[n, 4]`` (pulse, basis, sampled, bit)."""
        got = self.board.check_reports(beats, cycles)
        self.captured.append(got)
        self.n_captured += len(got)
        while (not self.closed and self.next_frame + 1 < len(self.bounds)
               and self.n_captured >= self.bounds[self.next_frame + 1]):
            self.send_uplink(self.next_frame)
            self.next_frame += 1
        return got

    def send_uplink(self, seq: int) -> None:
        first, end = int(self.bounds[seq]), int(self.bounds[seq + 1])
        rows = np.concatenate(self.captured) if self.captured else np.zeros((0, 4), np.uint64)
        offset = self.n_captured - len(rows)
        frame = rows[first - offset:end - offset]
        self.captured = [rows[end - offset:]]
        base = np.uint64(seq * FRAME_PULSES)
        # A wrong report (already a mismatch) that left its frame goes up with the model's pulse.
        model = self.board.reports.pulse[first:end]
        frame[:, 0] = np.where(frame[:, 0] >> np.uint64(OFFSET_BITS) == np.uint64(seq),
                               frame[:, 0], model)
        words = encode_uplink(seq, self.next_message, frame[:, 0] - base, frame[:, 1],
                              frame[:, 2], frame[:, 3] & frame[:, 2], OFFSET_BITS)
        t = now_cycles() * CYCLE_S
        send_s = len(words) * 32 / self.up_link.bits_per_s
        copies = max(1, min(4, int(FRAME_S // send_s)))
        arrival = None
        for j in range(copies):
            self.stats["uplink_copies"] += 1
            for t_arrive, got in self.up_link.send(words, t + j * send_s):
                decoded = decode_uplink(got)
                if decoded is not None and decoded.seq == seq and arrival is None:
                    arrival = (t_arrive, decoded)
        self.stats["uplink_frames"] += 1
        deadline = self.deadline_s(seq)
        if arrival is not None and arrival[0] >= deadline:
            arrival = None  # stale: the satellite declared the frame missing before it came
            self.stats["uplink_stale"] += 1
        if arrival is None:
            self.stats["uplink_missing"] += 1
            self.missing_frames.append(seq)
            # Declared at the next arrival or at the frame's expiry, whichever comes first.
            self.messages[seq] = (first, end - first, False, deadline)
            self.send_messages()
            return
        t_arrive, decoded = arrival
        for missing in range(self.sat_expect, seq):
            if missing in self.messages:
                m_first, m_count, _, ready = self.messages[missing]
                self.messages[missing] = (m_first, m_count, False, min(ready, t_arrive))
        self.sat_expect = seq + 1
        payload = pack_array(Report, {"pulse": decoded.offset + base, "basis": decoded.basis,
                                      "sampled": decoded.sampled, "bit": decoded.bit})
        self.up.put(payload.tolist(), int(np.ceil(t_arrive / CYCLE_S)))
        self.sat_index = np.concatenate([self.sat_index, np.arange(first, end)])
        self.messages[seq] = (first, end - first, True, -2.0)  # waits for its entries
        self.stats["reports_uplinked"] += end - first
        self.send_messages()

    def on_answers(self, beats: np.ndarray, cycles: np.ndarray) -> None:
        status = self.board.check_answers(beats, cycles)
        index, self.sat_index = self.sat_index[:len(status)], self.sat_index[len(status):]
        code = self.board.satellite_chunk(index, status[:len(index)])
        self.model_codes = np.concatenate([self.model_codes, code])

    def on_entries(self, beats: np.ndarray, cycles: np.ndarray) -> None:
        codes = values(beats)
        self.board.check_queue("sift_entries", codes, cycles)
        self.entries = np.concatenate([self.entries, codes])
        self.send_messages()

    def send_messages(self) -> None:
        t_now = now_cycles() * CYCLE_S
        while not self.closed and self.next_message in self.messages:
            first, count, delivered, ready = self.messages[self.next_message]
            code = model = None
            if delivered:
                if min(len(self.entries), len(self.model_codes)) < count:
                    return  # the satellite has not sifted the whole frame yet
                code, self.entries = self.entries[:count], self.entries[count:]
                model, self.model_codes = self.model_codes[:count], self.model_codes[count:]
            words = encode_sift(self.next_message, None if code is None else code.astype(
                np.uint32))
            t, arrival = max(t_now, ready), None
            for attempt in range(MAX_SENDS):
                self.stats["sift_copies"] += 1
                for t_arrive, got in self.dn_link.send(words, t + attempt * FRAME_S):
                    decoded = decode_sift(got)
                    if decoded is not None and arrival is None:
                        arrival = (t_arrive, decoded)
                if arrival is not None:
                    break
            if arrival is None:
                raise RuntimeError(f"sift message {self.next_message} never got through")
            t_arrive, decoded = arrival
            bits = self.board.ground_frame(first, count, model)
            entries = decoded.code if decoded.code is not None else np.full(count, MISSING_CODE)
            due = self.dn.put(entries.tolist(), int(np.ceil(t_arrive / CYCLE_S)))
            self.ground_due.append((due, bits))
            self.stats["sift_messages"] += 1
            del self.messages[self.next_message]
            self.next_message += 1


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
        channel, index = p["corrupt_hit"]
        stim = dict(stim)
        fine = stim[f"raw{channel}_fine"] = stim[f"raw{channel}_fine"].copy()
        fine[index] ^= 1  # one wrong raw hit in the model: the raw-hit scoreboard must object
    board = E2eScoreboard(params, stim["det_pulse"], stim["det_basis"], stim["det_bit"])
    widths = p["widths"]

    injectors = {name: Injector(dut, name, widths[name], params.replay_batch,
                                replay_depth(params, name), rows=name in CODE_REPLAYS)
                 for name in REPLAYS}
    up, dn = injectors["up"], injectors["dn"]
    expect_time_tagger(board, stim)
    end_cycle = int(stim["end_cycle"])
    horizon = end_cycle * CYCLE_S + 1.0
    up_link = Link(LinkConfig(**p["uplink"]), p["seed"], horizon)
    dn_link = Link(LinkConfig(**p["downlink"]), p["seed"] + 1, horizon)
    loop = LinkLoop(board, up, dn, up_link, dn_link)

    timeline = Timeline()

    def on_frames(beats: np.ndarray, cycles: np.ndarray) -> None:
        board.check_frames(beats, cycles)
        timeline.on_sync(cycles)

    def on_reports(beats: np.ndarray, cycles: np.ndarray) -> None:
        timeline.on_reports(loop.on_reports(beats, cycles)[:, 0])

    def on_key(side: str):
        def handle(beats: np.ndarray, cycles: np.ndarray) -> None:
            board.check_queue(f"{side}_key", values(beats), cycles)
            timeline.on_key(side, beats, cycles)
        return handle

    handlers = {
        "sig": board.check_signatures, "frm": on_frames, "rep": on_reports,
        "ans": loop.on_answers, "ent": loop.on_entries,
        "skey": on_key("satellite"), "gkey": on_key("ground"),
        "raw": lambda beats, cycles: board.check_split("raw_hits", beats, cycles),
        "cal": lambda beats, cycles: board.check_split("cal_tags", beats, cycles),
        "sync": lambda beats, cycles: board.check_sequence("sync_tags", beats, cycles),
        "tag": lambda beats, cycles: board.check_sequence("merged_tags", beats, cycles),
    }
    captures = [Capture(dut, name, widths[name], params.capture_depth(name), handlers[name])
                for name in CAPTURES]
    truncated = bool(p.get("max_cycles")) and end_cycle > p["max_cycles"]
    if truncated:
        end_cycle = p["max_cycles"]
    progress = (Progress(end_cycle * params.lanes / FRAME_PULSES, params.lanes, board)
                if p.get("progress") else None)
    poller = Poller(dut.clk, captures, POLL_CYCLES, progress, slow=TDC_CAPTURES)
    set_registers(dut, p["tdc_registers"])
    await tb.ticks(2 * POWER_ON_CYCLES)  # a batch loaded in reset would be lost
    for task in (poller, *injectors.values()):
        cocotb.start_soon(task.run())
    wall, cpu = time.perf_counter(), time.process_time()
    feed_until = p.get("max_cycles") or 1 << 62
    for name in CODE_REPLAYS:
        code_due = stim[f"{name}_due"].astype(np.int64)
        cocotb.start_soon(feed(injectors[name], code_payloads(stim[name], code_due, widths[name]),
                               code_due, feed_until))
    await Timer(max(1, end_cycle - now_cycles()) * CLOCK_PS, unit="ps")
    await ReadOnly()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if progress is not None:
        progress.close(now_cycles())
    # The window ends here for every stream: what the RTL captured up to now (the unfinished
    # batches included) against the model outputs of what the link delivered up to now.
    poller.open = False
    loop.closed = True
    snapshots = [capture.snapshot() for capture in captures]
    replays = {name: tuple(int(getattr(dut, f"{name}_{port}").value) for port in (
        "accepted", "dropped", "short_reads")) for name in REPLAYS}
    tap_overflow = int(dut.tap_overflow.value)
    sat_safe = int(dut.sat_safe.value)
    counters = read_counters(dut, p["tdc_counters"])
    await Timer(2 * CLOCK_PS, unit="ps")
    for capture, snapshot in zip(captures, snapshots, strict=True):
        capture.finish(snapshot)

    board.finish()
    board.check_replays({name: (injectors[name].batches, *replays[name]) for name in REPLAYS})
    board.check_taps(tap_overflow)
    board.check_safe_pulses(sat_safe)
    if not truncated:  # the model's counters are those at the end of the whole window
        board.check_counters(counters, p["tdc_counters"])
    pulses = int(stim["pulses"])
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
        board.shortfall("sift_entries", loop.stats["reports_uplinked"], 0)
        board.shortfall("satellite_key", board.key_bits["satellite"], 0)
        delivered = sum(bits for due, bits in loop.ground_due if due + SIFT_MARGIN <= end_cycle)
        board.shortfall("ground_key", delivered, 0)
        board.split_shortfall("raw_hits")
        board.split_shortfall("cal_tags")
        board.sequence_shortfall("sync_tags")
        board.sequence_shortfall("merged_tags")
    status = {name: int(getattr(dut, name).value) for name in (
        "sat_packets", "gnd_packets", "gnd_missing", "sat_dropped", "report_overflow", "locked",
        "tap_overflow", "sat_safe")}
    cycles = now_cycles()
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
        "link": loop.stats,
        "timeline": {**timeline.as_dict(), "uplink_missing": loop.missing_frames},
        "uplink_stats": vars(up_link.stats),
        "downlink_stats": vars(dn_link.stats),
        "replayed": {name: injector.loaded for name, injector in injectors.items()},
        "replay_batches": {name: {"sent": injectors[name].batches, "accepted": accepted,
                                  "dropped": dropped, "short_reads": short}
                           for name, (accepted, dropped, short) in replays.items()},
    })
    Path(p["result_path"]).write_text(json.dumps(result, indent=2, default=int))
    if not (p.get("corrupt") or p.get("corrupt_hit")):
        assert board.mismatches == 0, json.dumps(result["streams"], indent=1)
