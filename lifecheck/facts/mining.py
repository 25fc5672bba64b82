"""Acquire/release pairs learnt from how a tree's devices use them
(``lifecheck api mine``), after Engler et al., "Bugs as deviant
behavior: a general approach to inferring errors in systems code"
(SOSP 2001): a pair of functions that most devices call together is
probably a pair every device must call together, and the devices that do
not are probably wrong.

Candidates are pairs of functions whose names pair up by convention
(rules/tables/pairing.toml: ``fifo8_create`` / ``fifo8_destroy``).  The
evidence comes from the linked program, per QOM type: *support* is the
number of types that call the acquire function on a resource (a field of
the device, the device itself, or a global) in realize or instance_init;
the types *follow* the pair when they call the release function on the
same resource (access path key) in unrealize or instance_finalize (only
instance_finalize for what instance_init acquired), else they *deviate*.
*confidence* = follow / support, and pairs are ranked by Engler's
z-statistic for proportions, ``z = (c - P0) / sqrt(P0 (1 - P0) / n)``
with n = support, c = confidence and P0 = 0.9: how many standard errors
the observed share lies above a pairing that nine devices in ten would
follow anyway.  A pair seen once or twice scores low even at c = 1;
a pair most devices break scores below zero.  What ``propose`` writes:
new pairs with support >= MIN_SUPPORT, confidence >= MIN_CONFIDENCE and
at least MIN_SITES distinct acquisition sites (types that inherit one
hook are one piece of code).

This module reads the program and the API table only; it knows nothing
about the frontend, rules, findings or output.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from ..graph import Event, Program
from ..model import GLOBAL, PARAM, Location
from .api import ApiFamily, ApiIndex, embedded, list_key, root_allowed
from .device import DeviceFacts

# Engler's z-statistic: the share of followers expected of a pairing that
# is not a rule (a rule is followed clearly more often than this).
P0 = 0.9
# What ``mine`` writes by default: a pair at least this many device types
# use, this share of which release it (docs/api-families.md).
MIN_SUPPORT = 5
MIN_CONFIDENCE = 0.8
# ... acquired at this many places in the code at least: types that share
# one hook (13 sPAPR CPU core models) are one use, not thirteen
MIN_SITES = 2

ACQUIRE_PHASES = ("instance_init", "realize")
# where a resource acquired in a phase must be released
RELEASE_PHASES = {"instance_init": ("instance_finalize",), "realize": ("unrealize", "instance_finalize")}
TEARDOWN = ("unrealize", "instance_finalize")
RESULT = -1   # the resource is the acquire call's return value
# where a resource may be held for the evidence to count: fields of the
# device (or the device itself) and registrations keyed by a global
ROOTS = ("self", "global")

# a pair's standing against the API table (rules/api)
KNOWN = "known"                  # a family has both as acquire and release
DISARM = "disarm"                # the release only stops what a family's acquire makes
ACQUIRE_KNOWN = "acquire-known"  # the acquire belongs to a family with other releases
NEW = "new"                      # the acquire belongs to no family

_WORD_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PairingDataError(Exception):
    """rules/tables/pairing.toml is malformed (the message names the key)."""


# -- which names pair up ---------------------------------------------------------

@dataclass(frozen=True)
class NamePair:
    """Two function names that pair up by convention; ``words``: the
    object they act on (``("fifo8",)``, ``("qemu", "vm", "change", ...)``)."""

    acquire: str
    release: str
    words: Tuple[str, ...]


@dataclass(frozen=True)
class Pairing:
    """The naming conventions of rules/tables/pairing.toml."""

    verbs: Tuple[Tuple[str, str], ...] = ()
    irregular: Tuple[Tuple[str, str], ...] = ()

    @classmethod
    def from_table(cls, table: dict, source: str = "rules/tables/pairing.toml") -> "Pairing":
        unknown = sorted(set(table) - {"verbs", "irregular"})
        if unknown:
            raise PairingDataError(f"{source}: unknown key '{unknown[0]}'; allowed: irregular, verbs")
        out = {}
        for key in ("verbs", "irregular"):
            rows = table.get(key, [])
            if not isinstance(rows, list) or not all(
                    isinstance(r, list) and len(r) == 2 and all(isinstance(w, str) and _WORD_RE.match(w) for w in r)
                    for r in rows):
                raise PairingDataError(f"{source}: key '{key}' must be a list of [acquire, release] "
                                       "pairs of C identifiers")
            out[key] = tuple((a, r) for a, r in rows)
        for a, r in out["verbs"]:
            if "_" in a or "_" in r:
                raise PairingDataError(f"{source}: key 'verbs': '{a}'/'{r}' must be single words (no '_')")
        return cls(out["verbs"], out["irregular"])

    def index(self, names: Iterable[str]) -> "NameIndex":
        return NameIndex(self, names)


def _words(name: str) -> List[str]:
    return name.split("_")


class NameIndex:
    """The functions of one program that can be a release, by where their
    release verb sits, to find the partners of an acquire name quickly."""

    def __init__(self, pairing: Pairing, names: Iterable[str]):
        self.pairing = pairing
        self.names = frozenset(names)
        self._release_verbs: Dict[str, List[str]] = {}
        for a, r in pairing.verbs:
            self._release_verbs.setdefault(a, []).append(r)
        wanted = {r for _, r in pairing.verbs}
        # (words before the verb, release verb) -> [(words after it, name)]
        self._by_place: Dict[Tuple[Tuple[str, ...], str], List[Tuple[Tuple[str, ...], str]]] = {}
        for name in sorted(self.names):
            words = _words(name)
            for k, w in enumerate(words):
                if w in wanted:
                    self._by_place.setdefault((tuple(words[:k]), w), []).append((tuple(words[k + 1:]), name))
        self._irregular: Dict[str, List[str]] = {}
        for a, r in pairing.irregular:
            self._irregular.setdefault(a, []).append(r)
        self._memo: Dict[str, Tuple[NamePair, ...]] = {}

    def partners(self, acquire: str) -> Tuple[NamePair, ...]:
        """Every release name of the program that ``acquire`` pairs up
        with, in a stable order."""
        got = self._memo.get(acquire)
        if got is not None:
            return got
        found: Dict[str, NamePair] = {}
        words = _words(acquire)
        for k, w in enumerate(words):
            for verb in self._release_verbs.get(w, ()):
                before, after = tuple(words[:k]), tuple(words[k + 1:])
                for rest, name in self._by_place.get((before, verb), ()):
                    if name == acquire or name in found:
                        continue
                    # the acquire may add qualifiers (timer_new_ns / timer_free),
                    # the release may not: vfio_device_free_name() frees a
                    # part of what vfio_device_init() set up
                    if after[:len(rest)] == rest:
                        found[name] = NamePair(acquire, name, _object(before + rest))
        for name in self._irregular.get(acquire, ()):
            if name in self.names and name not in found:
                found[name] = NamePair(acquire, name, _object(tuple(words)))
        got = self._memo[acquire] = tuple(found[n] for n in sorted(found))
        return got


def _object(words: Tuple[str, ...]) -> Tuple[str, ...]:
    return tuple(w.lower() for w in words if w)


def name_pairs(pairing: Pairing, names: Iterable[str]) -> List[NamePair]:
    """Every pair among ``names`` (for tests and for reading the table)."""
    index = pairing.index(names)
    return [p for name in sorted(index.names) for p in index.partners(name)]


# -- the evidence --------------------------------------------------------------

@dataclass(frozen=True)
class Example:
    """One acquisition: the device type, the resource, where it was
    acquired, and where it was released (None: it deviates)."""

    device: str
    resource: str
    acquire: Location
    release: Optional[Location] = None
    phase: str = "realize"


@dataclass
class MinedPair:
    acquire: str
    release: str
    acquire_index: int            # RESULT: the return value
    release_index: int
    support: int                  # device types that acquire
    follows: int                  # of those, the types that release
    examples: List[Example] = field(default_factory=list)    # followers
    deviants: List[Example] = field(default_factory=list)    # the unreleased acquisitions
    status: str = NEW
    family: str = ""              # the rules/api family it belongs to (status known/disarm/acquire-known)
    release_family: str = ""      # status new: a family the release already belongs to
    words: Tuple[str, ...] = ()   # the object the pair acts on
    frees_argument: bool = False  # the release function g_free()s the resource it is given
    embedded: int = 0             # supporting types that hold the resource embedded (&s->field)
    sites: int = 0                # distinct acquisition sites (types may share a hook)

    @property
    def confidence(self) -> float:
        return self.follows / self.support if self.support else 0.0

    @property
    def z(self) -> float:
        return z_statistic(self.support, self.follows)

    def passes(self, min_support: int, min_confidence: float, min_sites: int = 1) -> bool:
        return self.support >= min_support and self.confidence >= min_confidence - 1e-9 \
            and self.sites >= min_sites

    @property
    def new(self) -> bool:
        return self.status == NEW


def z_statistic(n: int, e: int, p0: float = P0) -> float:
    """Engler's z(n, e) = (e/n - p0) / sqrt(p0 (1 - p0) / n)."""
    if n <= 0:
        return 0.0
    return (e / n - p0) / math.sqrt(p0 * (1 - p0) / n)


@dataclass
class _Held:
    """What one device type acquires with one function, per argument."""

    # argument index -> [(phase, key, path text, event)]
    by_index: Dict[int, List[Tuple[str, str, str, Event]]] = field(default_factory=dict)


def _resources(ev: Event, memo: Dict[int, Tuple[Event, list]], functions) -> List[Tuple[int, str, str, bool]]:
    """(argument index, key, path text, embedded) of each resource the call
    can name: arguments, and the result when it is stored.  A global counts
    when its address is passed (``&vmstate_foo``) or it is a function
    (``qemu_register_reset(foo_reset, s)``): a global passed by value is a
    shared container the call works on (``g_hash_table_insert(pfs, ...)``),
    not something the device holds."""
    seen = memo.get(id(ev))
    if seen is not None and seen[0] is ev:
        return seen[1]
    out = []
    if ev.result is not None and root_allowed(ev.result, ROOTS, ("result",)):
        out.append((RESULT, list_key(ev.result), str(ev.result), False))
    for i, arg in enumerate(ev.args):
        p = arg.path
        if p is None or not root_allowed(p, ROOTS):
            continue
        if p.root_kind == GLOBAL and not p.address_of and p.root.split(":", 1)[1] not in functions:
            continue
        out.append((i, list_key(p), str(p), embedded(p)))
    memo[id(ev)] = (ev, out)   # ev kept alive: its id is not reused
    return out


class Miner:
    """The pairs of one program (``mine``)."""

    def __init__(self, program: Program, families: Iterable[ApiFamily], tables: dict,
                 version: Optional[Tuple[int, ...]] = None):
        self.program = program
        self.families = list(families)
        self.api = ApiIndex(self.families, version)
        self.pairing = Pairing.from_table(tables.get("pairing", {}))
        names = set(program.by_name)
        for fn in program.functions.values():
            names.update(site.callee for site in fn.calls if site.callee)
        self.index = self.pairing.index(names)
        self.tables = tables
        self._memo: Dict[int, tuple] = {}

    def mine(self) -> List[MinedPair]:
        """Every candidate pair that at least one type follows, ranked
        (z, then support, then names)."""
        types = [self.program.types[n] for n in sorted(self.program.types)
                 if not self.program.types[n].record.abstract]
        acquired: Dict[str, Dict[str, _Held]] = {}         # acquire -> type -> what it holds
        released: Dict[str, Dict[str, Dict[Tuple[int, str], Set[str]]]] = {}  # release -> type -> (index, phase) -> keys
        release_locs: Dict[Tuple[str, str, int, str, str], Location] = {}
        releases_wanted: Set[str] = set()
        for dev in types:
            device: Optional[DeviceFacts] = None
            for phase in ACQUIRE_PHASES:
                for ev in self.program.events(dev, phase):
                    callee = ev.site.callee
                    if not callee or not self.index.partners(callee):
                        continue
                    if device is None:
                        device = DeviceFacts(self.program, dev, self.api, self.tables)
                    held = acquired.setdefault(callee, {}).setdefault(dev.name, _Held())
                    for i, key, text, _ in _resources(ev, self._memo, self.program.by_name):
                        # what the leak rules leave alone is no evidence either
                        # way: a string property qdev frees, what lives in an
                        # embedded QOM child or in an object the device links to
                        if not device.not_ours(key):
                            held.by_index.setdefault(i, []).append((phase, key, text, ev))
                    releases_wanted.update(p.release for p in self.index.partners(callee))
        for dev in types:
            for phase in TEARDOWN:
                for ev in self.program.events(dev, phase):
                    callee = ev.site.callee
                    if callee not in releases_wanted:
                        continue
                    per_type = released.setdefault(callee, {}).setdefault(dev.name, {})
                    for i, key, _, _ in _resources(ev, self._memo, self.program.by_name):
                        if i == RESULT:
                            continue
                        per_type.setdefault((i, phase), set()).add(key)
                        release_locs.setdefault((callee, dev.name, i, phase, key), ev.site.loc)
        pairs = []
        for acquire in sorted(acquired):
            for np in self.index.partners(acquire):
                got = self._evaluate(np, acquired[acquire], released.get(np.release, {}), release_locs)
                if got is not None:
                    pairs.append(got)
        pairs.sort(key=lambda p: (-p.z, -p.support, p.acquire, p.release))
        return pairs

    def _evaluate(self, np: NamePair, holders: Dict[str, _Held], releasers: Dict[str, Dict[Tuple[int, str], Set[str]]],
                  release_locs) -> Optional[MinedPair]:
        release_indexes = sorted({i for per in releasers.values() for i, _ in per})
        best = None
        for ia in sorted({i for h in holders.values() for i in h.by_index}):
            for ir in release_indexes:
                pair = self._count(np, ia, ir, holders, releasers, release_locs)
                if pair.follows == 0:
                    continue
                # the most followers; then the surer; then a resource other
                # than the device itself (``s``, which many calls are given);
                # then a returned handle (s->x = f()) over an argument
                bare = all(ex.resource == "self" for ex in pair.examples)
                rank = (pair.follows, pair.confidence, not bare, ia == RESULT, -ia, -ir)
                if best is None or rank > best[0]:
                    best = (rank, pair)
        if best is None:
            return None
        pair = best[1]
        classify(pair, self.families)
        pair.words = np.words
        pair.frees_argument = self._frees_argument(np.release, pair.release_index)
        return pair

    def _count(self, np: NamePair, ia: int, ir: int, holders, releasers, release_locs) -> MinedPair:
        pair = MinedPair(np.acquire, np.release, ia, ir, 0, 0)
        sites: Set[Location] = set()
        for dev_name in sorted(holders):
            held = holders[dev_name].by_index.get(ia)
            if not held:
                continue
            pair.support += 1
            keys = releasers.get(dev_name, {})
            missing, kept = [], []
            for phase, key, text, ev in held:
                sites.add(ev.site.loc)
                where = [p for p in RELEASE_PHASES[phase] if key in keys.get((ir, p), ())]
                if where:
                    kept.append(Example(dev_name, text, ev.site.loc,
                                        release_locs[(np.release, dev_name, ir, where[0], key)], phase))
                else:
                    missing.append(Example(dev_name, text, ev.site.loc, None, phase))
            if any(self._embedded(ev, ia) for _, _, _, ev in held):
                pair.embedded += 1
            if missing:
                pair.deviants.extend(missing)
            else:
                pair.follows += 1
                pair.examples.extend(kept)
        pair.sites = len(sites)
        return pair

    def _embedded(self, ev: Event, ia: int) -> bool:
        return any(i == ia and emb for i, _, _, emb in _resources(ev, self._memo, self.program.by_name))

    def _frees_argument(self, release: str, index: int) -> bool:
        """The release function's body (when the tree has it) hands the
        parameter the resource is passed as to a release of plain heap
        memory (``g_free(doe_cap)``): it frees the object itself."""
        param = f"{PARAM}:{index}"
        for key in self.program.by_name.get(release, ()):
            fn = self.program.functions[key]
            for site in fn.calls:
                call = self.api.lookup_trait(site.callee, "heap", "release")
                if call is None or not 0 <= call.resource < len(site.args):
                    continue
                p = site.args[call.resource].path
                if p is not None and p.root == param and not p.steps:
                    return True
        return False


def classify(pair: MinedPair, families: Sequence[ApiFamily]) -> None:
    """Set where the pair stands against the API table (``status``,
    ``family``, ``release_family``), whatever QEMU versions the families
    apply to."""
    for fam in families:
        acquires = {c.function for c in fam.calls if c.role == "acquire"}
        if pair.acquire not in acquires:
            continue
        roles = {c.role for c in fam.calls if c.function == pair.release}
        if "release" in roles:
            pair.status, pair.family = KNOWN, fam.name
            return
        if "disarm" in roles:
            pair.status, pair.family = DISARM, fam.name
            return
        pair.status, pair.family = ACQUIRE_KNOWN, fam.name
    if pair.status == NEW:
        for fam in families:
            if any(c.function == pair.release and c.role == "release" for c in fam.calls):
                pair.release_family = fam.name
                break


def mine(program: Program, families: Iterable[ApiFamily], tables: dict,
         version: Optional[Tuple[int, ...]] = None) -> List[MinedPair]:
    """The candidate acquire/release pairs of ``program``, ranked by
    Engler's z-statistic (see the module's documentation)."""
    return Miner(program, families, tables, version).mine()


# -- what ``mine`` proposes for rules/api ----------------------------------------

@dataclass(frozen=True)
class ProposedFamily:
    """A ``[[family]]`` for rules/api, marked ``mined = true``; one per
    acquire function, with every release it was mined with."""

    name: str
    acquire: str
    acquire_index: int
    releases: Tuple[Tuple[str, int, bool], ...]   # (function, resource index, frees its argument)
    summary: str
    pairs: Tuple[MinedPair, ...]


def propose(pairs: Iterable[MinedPair], taken: Iterable[str], min_support: int = MIN_SUPPORT,
            min_confidence: float = MIN_CONFIDENCE, min_sites: int = MIN_SITES) -> List[ProposedFamily]:
    """The new pairs (acquire in no family of rules/api) that pass the
    thresholds, as families named after the object they act on; ``taken``:
    family names already in use."""
    used = set(taken)
    by_acquire: Dict[str, List[MinedPair]] = {}
    for p in pairs:
        if p.new and p.passes(min_support, min_confidence, min_sites):
            by_acquire.setdefault(p.acquire, []).append(p)
    out = []
    for acquire, group in sorted(by_acquire.items()):
        # one family per acquire function, keyed on the argument of its
        # best-supported pair; pairs that name another argument are left out
        top = max(group, key=lambda p: (p.support, p.follows, -p.acquire_index))
        group = sorted((p for p in group if p.acquire_index == top.acquire_index),
                       key=lambda p: (-p.follows, p.release))
        words = top.words or tuple(_words(acquire.lower()))
        name = _family_name(words, acquire, used)
        used.add(name)
        releases = tuple((p.release, p.release_index, p.frees_argument) for p in group)
        what = " ".join(words)
        summary = f"{'an' if what[:1] in 'aeiou' else 'a'} {what}, from a mined pair not yet reviewed"
        out.append(ProposedFamily(name, acquire, top.acquire_index, releases, summary, tuple(group)))
    return out


def _family_name(words: Tuple[str, ...], acquire: str, used: Set[str]) -> str:
    base = "-".join(re.sub(r"[^a-z0-9]+", "-", w.lower()).strip("-") for w in words if w).strip("-")
    if not base or not base[0].isalpha():
        base = "mined-" + (base or re.sub(r"[^a-z0-9]+", "-", acquire.lower()).strip("-"))
    name = base
    if name in used:   # a family of rules/api has the object's name: the acquire function's
        name = re.sub(r"[^a-z0-9]+", "-", acquire.lower()).strip("-")
        base = name if name[:1].isalpha() else "mined-" + name
        name = base
    n = 2
    while name in used:
        name = f"{base}-{n}"
        n += 1
    return name
