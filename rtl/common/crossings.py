"""Clock-domain crossing rule: every signal that crosses domains goes through a synchroniser.

A design rule check on the elaborated design, run on every synthesis top before synthesis
(``sim/synth.py``) and on every top in the regression (``tests/common/test_crossings.py``).
It follows each signal that a clocked statement, a memory port or a clocked instance reads back
through the combinational logic to the registers (or memory writes) that drive it, and fails
when a register of domain ``A`` is fed by a register of domain ``B``, except through one of
the synchronisers in :data:`SYNCHRONISERS`:

* **Bit synchronisers** (:class:`amaranth.lib.cdc.FFSynchronizer`, ``AsyncFFSynchronizer``,
  ``ResetSynchronizer``, ``PulseSynchronizer``): their input may come from any domain; that is
  their job.
* **FIFOs** (:class:`amaranth.lib.fifo.AsyncFIFO`, ``AsyncFIFOBuffered``): the crossing inside
  (Gray-coded pointers through ``FFSynchronizer``, the storage written in one domain and read in
  the other) is allowed; what enters the FIFO from outside is checked like any other logic, so
  ``w_data`` driven from the read domain still fails.
* A project component that is a documented synchroniser declares it with a class attribute
  ``clock_crossing = "bits"`` or ``"internal"`` (the two rules above) and says why in its
  docstring.

Top-level inputs belong to no domain unless the caller names one (``port_domains``): an input
that arrives from another clock must be declared, then its first register is checked like any
other. Clock signals are not data; a domain's reset read as data belongs to its domain.

The same walk lists the allowed crossings (:func:`list_crossings`); ``python -m
sim.crossings`` prints them as the table in ``docs/architecture.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from amaranth.hdl import ClockDomain, Elaboratable, Fragment, Instance, Signal, Value
from amaranth.hdl._ast import Assign, SignalDict, Switch
from amaranth.hdl._mem import MemoryInstance
from amaranth.lib import cdc, fifo, wiring

# class -> rule: "bits" (any input may cross), "internal" (only the block's own signals may)
SYNCHRONISERS: dict[type, str] = {
    cdc.FFSynchronizer: "bits",
    cdc.AsyncFFSynchronizer: "bits",
    cdc.ResetSynchronizer: "bits",
    cdc.PulseSynchronizer: "bits",
    fifo.AsyncFIFO: "internal",
    fifo.AsyncFIFOBuffered: "internal",
}


# pseudo fragment ids of register sources that are not a fragment's statements
_PORT, _RESET = -1, -2


class ClockCrossingError(Exception):
    """A signal crosses clock domains without a synchroniser."""


@dataclass(frozen=True)
class Crossing:
    """One crossing: ``kind`` "synchroniser" (allowed) or "direct" (a violation)."""

    kind: str
    path: str
    target: str
    source_domains: tuple[str, ...]
    target_domain: str
    via: str

    def __str__(self) -> str:
        sources = ", ".join(self.source_domains)
        return (f"{self.path}: {self.target} (domain {self.target_domain}) reads registers of "
                f"domain {sources} in {self.via}")


@dataclass
class _Frag:
    fragment: Fragment
    path: str
    guard: _Frag | None  # outermost enclosing synchroniser (or itself)
    rule: str | None
    kind: str | None


@dataclass(frozen=True)
class _Read:
    frag: _Frag
    domain: ClockDomain
    target: str
    sources: tuple  # signals (or memories) read


class _Walk:
    def __init__(self, top: Elaboratable, port_domains: Mapping[str, str]) -> None:
        design = Fragment.get(top, None).prepare()
        self.domains: dict[str, ClockDomain] = {}  # global domains by name, local ones by key
        self.local: set[str] = set()
        self.clocks = SignalDict()   # clock signal -> domain
        self.resets = SignalDict()   # reset signal -> domain
        self.sync = SignalDict()     # signal -> (domain, fragment) of its register
        self.comb = SignalDict()     # signal -> (inputs, fragment) of its combinational driver
        self.memories: dict[int, tuple[set, _Frag]] = {}  # id(memory) -> write domains, fragment
        self.reads: list[_Read] = []
        self.frags: list[_Frag] = []
        self.port_domains = port_domains
        self._register_domains(design.fragment)
        self._walk(design.fragment, "top", None)
        self.inputs = {name: sig for name, sig, _dir in design.ports if isinstance(sig, Signal)}
        if isinstance(top, wiring.Component):  # named as in the generated Verilog
            for path, member, value in top.signature.flatten(top):
                if member.flow == wiring.In:
                    self.inputs["__".join(map(str, path))] = Value.cast(value)

    def _domain(self, fragment: Fragment, name: str) -> ClockDomain:
        domain = fragment.domains[name]
        if domain.local:
            self.local.add(self.key(domain))
        self.domains.setdefault(self.key(domain), domain)
        self.clocks[domain.clk] = domain
        if domain.rst is not None:
            self.resets[domain.rst] = domain
        return domain

    def _register_domains(self, fragment: Fragment) -> None:
        # every clock first, so that an instance's clock input is known wherever it sits
        for name in fragment.domains:
            self._domain(fragment, name)
        for sub, _name, _src_loc in fragment.subfragments:
            self._register_domains(sub)

    def _walk(self, fragment: Fragment, path: str, guard: _Frag | None) -> None:
        origin = next((o for o in (fragment.origins or ()) if _rule(o)), None)
        frag = _Frag(fragment, path, guard, None, None)
        if origin is not None and guard is None:
            frag.rule, frag.kind, frag.guard = _rule(origin), type(origin).__name__, frag
        self.frags.append(frag)
        for name, statements in fragment.statements.items():
            domain = None if name == "comb" else self._domain(fragment, name)
            for statement in statements:
                self._statement(frag, domain, statement, ())
        if isinstance(fragment, MemoryInstance):
            self._memory(frag, fragment)
        elif isinstance(fragment, Instance):
            self._instance(frag, fragment)
        for sub, name, _src_loc in fragment.subfragments:
            self._walk(sub, f"{path}.{name or 'unnamed'}", frag.guard)

    def _statement(self, frag: _Frag, domain: ClockDomain | None, statement, context: tuple
                   ) -> None:
        if isinstance(statement, Assign):
            # the lhs's own signals are targets; only its index expressions are read
            lhs = statement.lhs
            read = statement.rhs._rhs_signals() | (lhs._rhs_signals() - lhs._lhs_signals())
            inputs = context + tuple(read)
            for signal in statement._lhs_signals():
                self._drive(frag, domain, signal, inputs)
        elif isinstance(statement, Switch):
            inner = context + tuple(statement.test._rhs_signals())
            for _patterns, body, _src_loc in statement.cases:
                for sub in body:
                    self._statement(frag, domain, sub, inner)

    def _drive(self, frag: _Frag, domain: ClockDomain | None, signal: Signal, inputs: tuple
               ) -> None:
        if domain is None:
            previous = self.comb.get(signal, ((), frag))[0]
            self.comb[signal] = (previous + inputs, frag)
        else:
            self.sync[signal] = (domain, frag)
            self.reads.append(_Read(frag, domain, signal.name, inputs))

    def _memory(self, frag: _Frag, memory: MemoryInstance) -> None:
        writes = set()
        for port in memory._write_ports:
            domain = self._domain(memory, port._domain)
            writes.add(domain)
            inputs = tuple(port._addr._rhs_signals() | port._data._rhs_signals()
                           | port._en._rhs_signals())
            self.reads.append(_Read(frag, domain, f"{frag.path} write port", inputs))
        self.memories[id(memory)] = (writes, frag)
        for port in memory._read_ports:
            inputs = (*(port._addr._rhs_signals() | port._en._rhs_signals()), memory)
            domain = None if port._domain == "comb" else self._domain(memory, port._domain)
            for signal in port._data._lhs_signals():
                self._drive(frag, domain, signal, inputs)

    def _instance(self, frag: _Frag, instance: Instance) -> None:
        inputs, outputs = [], []
        for value, kind in instance.ports.values():
            if isinstance(value, Value):  # pins (IOPort) carry no register's data
                (outputs if kind == "o" else inputs).append(value)
        read = tuple(s for v in inputs for s in v._rhs_signals())
        clocked = {id(d): d for s in read if (d := self.clocks.get(s)) is not None}
        domain = next(iter(clocked.values())) if len(clocked) == 1 else None
        for value in outputs:
            for signal in value._lhs_signals():
                self._drive(frag, domain, signal, read)

    @staticmethod
    def key(domain: ClockDomain) -> str:
        """A domain's name; a local domain's name made unique (every ``AsyncFFSynchronizer``
        has its own ``async_ff``, clocked by its output domain's clock)."""
        return f"{domain.name}#{id(domain)}" if domain.local else domain.name

    def clock_root(self, name: str) -> int:
        """Identity of the net behind a domain's clock: domains whose clocks are assigned from
        one signal (``ClockSignal("por").eq(clk)`` and ``ClockSignal("sync").eq(clk)``) are one
        clock and never cross."""
        signal = self.domains[name].clk if name in self.domains else None
        while signal is not None and signal in self.comb:
            inputs, _frag = self.comb[signal]
            if len(inputs) != 1:
                break
            signal = inputs[0]
        return id(signal) if signal is not None else hash(name)

    def sources(self, signal, seen: set) -> set[tuple[str, int]]:
        """(domain name, id of the driving fragment) of the registers behind ``signal``."""
        if isinstance(signal, MemoryInstance):
            writes, frag = self.memories[id(signal)]
            return {(d.name, id(frag)) for d in writes}
        if signal in self.clocks or id(signal) in seen:
            return set()
        if signal in self.resets:
            return {(self.key(self.resets[signal]), _RESET)}
        if signal in self.sync:
            domain, frag = self.sync[signal]
            return {(self.key(domain), id(frag))}
        if signal in self.comb:
            seen.add(id(signal))
            inputs, _frag = self.comb[signal]
            return set().union(*(self.sources(s, seen) for s in inputs))
        name = next((n for n, s in self.inputs.items() if s is signal), None)
        if name is not None and name in self.port_domains:
            return {(self.port_domains[name], _PORT)}
        return set()


def _rule(origin: object) -> str | None:
    declared = getattr(type(origin), "clock_crossing", None)
    if declared is not None:
        return declared
    return next((rule for cls, rule in SYNCHRONISERS.items() if isinstance(origin, cls)), None)


def list_crossings(top: Elaboratable, port_domains: Mapping[str, str] | None = None
                   ) -> list[Crossing]:
    """Every place where a register is fed from another domain, allowed or not.

    ``port_domains`` names the domain of top-level inputs that come from another clock
    (port name as in the generated Verilog, e.g. ``"uplink__payload"``).
    """
    walk = _Walk(top, port_domains or {})
    by_id = {id(f): f for f in walk.frags}
    subtree = _subtrees(walk.frags)
    found: dict[tuple, Crossing] = {}
    for read in walk.reads:
        foreign: dict[str, set[int]] = {}
        for source in read.sources:
            for domain, origin in walk.sources(source, set()):
                if walk.clock_root(domain) != walk.clock_root(walk.key(read.domain)):
                    foreign.setdefault(domain, set()).add(origin)
        for domain, origins in foreign.items():
            guard = read.frag.guard
            allowed = guard is not None and (guard.rule == "bits" or all(
                o == _RESET or o in subtree[id(guard)] for o in origins))
            if allowed:
                if domain in walk.local:
                    continue  # a synchroniser's own local domain (AsyncFFSynchronizer)
                key = ("synchroniser", guard.path, domain, read.domain.name)
                found.setdefault(key, Crossing("synchroniser", guard.path, guard.kind, (domain,),
                                               read.domain.name, guard.kind))
            else:
                names = sorted(by_id[o].path if o in by_id else _PSEUDO[o] for o in origins)
                key = ("direct", read.frag.path, read.target, domain)
                found.setdefault(key, Crossing("direct", read.frag.path, read.target, (domain,),
                                               read.domain.name, ", ".join(names)))
    return sorted(found.values(), key=lambda c: (c.kind, c.path, c.target, c.source_domains))


_PSEUDO = {_PORT: "a top-level input", _RESET: "its reset"}


def _subtrees(frags: list[_Frag]) -> dict[int, set[int]]:
    """id(fragment) of every synchroniser -> ids of the fragments in its subtree."""
    out: dict[int, set[int]] = {}
    for frag in frags:
        if frag.guard is frag:
            prefix = frag.path + "."
            out[id(frag)] = {id(f) for f in frags if f is frag or f.path.startswith(prefix)}
    return out


def check_crossings(top: Elaboratable, name: str = "top",
                    port_domains: Mapping[str, str] | None = None) -> list[Crossing]:
    """Raise :class:`ClockCrossingError` naming every direct crossing; return the allowed ones."""
    crossings = list_crossings(top, port_domains)
    direct = [c for c in crossings if c.kind == "direct"]
    if direct:
        lines = "\n  ".join(str(c) for c in direct)
        raise ClockCrossingError(
            f"{name}: {len(direct)} signal(s) cross clock domains without a synchroniser "
            f"(use amaranth.lib.cdc or amaranth.lib.fifo.AsyncFIFO):\n  {lines}")
    return [c for c in crossings if c.kind == "synchroniser"]


def domains_of(top: Elaboratable) -> list[tuple[str, ...]]:
    """The clock domains of the elaborated design, grouped by the clock that drives them
    (domains in one group are synchronous), sorted."""
    walk = _Walk(top, {})
    groups: dict[int, list[str]] = {}
    for name in sorted(set(walk.domains) - walk.local):
        groups.setdefault(walk.clock_root(name), []).append(name)
    return sorted(tuple(g) for g in groups.values())
