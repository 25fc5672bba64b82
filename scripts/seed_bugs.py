#!/usr/bin/env python3
"""Seeded lifetime bugs: mutate real QEMU device files and check that
lifecheck reports each seeded bug (and that the unmutated file does not).

    python scripts/seed_bugs.py --root QEMU_TREE --sample 25 --seed 1 [--json OUT] [-j N]
    python scripts/seed_bugs.py --root QEMU_TREE --files hw/misc/foo.c ... [--operators delete-release,...]

Mutation operators (one mutation per mutant, applied wherever it fits):

  delete-release        delete one release call (timer_free(), g_free(), qemu_bh_delete(),
                        memory_region_del_subregion(), ...) reached only from unrealize or
                        instance_finalize; expected: leak-on-unrealize, init-leak or
                        subregion-not-deleted on the resource.  Only releases of families
                        the API table says the device must release: object_unparent() of a
                        region or child is not one (QOM reclaims them with their owner)
  drop-error-release    delete one release that runs only on error exits of a function
                        realize reaches; expected: realize-error-leak
  move-acquire-to-init  move an acquisition statement of realize into the type's
                        instance_init (made when the type has none and its TypeInfo is a
                        plain static initializer); expected: init-leak
  free-in-unrealize     move a g_free() / object_unparent() of device memory from
                        instance_finalize to the end of unrealize; expected: freed-in-unrealize
  duplicate-release     copy a release of unrealize to the end of instance_finalize;
                        expected: double-release

Sites are found with lifecheck's own model (the API table's acquire and
release calls reached from a device's hooks, with their lines); the edit is
made on the C text, one statement at a time, keeping every other line where
it was.  A mutant is "found" when the mutated file gets a finding of an
expected rule on the mutated resource and the unmutated file has no such
finding ("not scorable" otherwise); a mutant whose file no longer parses is
"broken".  Sites where the mutation is not a bug (the resource is released
elsewhere as well, the release is idempotent, ...) are skipped and counted
with their reason.

The unmutated tree is analysed once (the unit cache makes later runs fast);
each mutant re-analyses only its file, in a hard-linked copy of the tree,
and the rules run over the device types of that file on a program made of
the units the file's types can reach.  The script uses engine internals
(``lifecheck.rules.engine._findings_of``, ``Facts``) to run the rules on
chosen types only.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import networkx as nx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lifecheck.analysis import build_units, collect_files, gc_paused, open_cache  # noqa: E402
from lifecheck.facts import Facts  # noqa: E402
from lifecheck.facts.reach import check_table as check_callback_table  # noqa: E402
from lifecheck.facts.api import _QUEUE_FIELDS  # noqa: E402  (the links of queue.h lists)
from lifecheck.frontend.preprocess import Preprocessor  # noqa: E402
from lifecheck.frontend.tree import QemuTree  # noqa: E402
from lifecheck.frontend.unit import analyse_file_with_closure  # noqa: E402
from lifecheck.graph import Program  # noqa: E402
from lifecheck.limits import FileTimeout, deadline  # noqa: E402
from lifecheck.model import SELF, AccessPath, Function, Param, TranslationUnit  # noqa: E402
from lifecheck.rules.catalog import Catalog, load_catalog  # noqa: E402
from lifecheck.rules.engine import _findings_of  # noqa: E402  (rules on chosen types only)
from lifecheck.rules.kinds import KINDS  # noqa: E402

OPERATORS = ("delete-release", "drop-error-release", "move-acquire-to-init", "free-in-unrealize",
             "duplicate-release")

# the rules that report each seeded bug
EXPECTED = {
    "delete-release": ("leak-on-unrealize", "init-leak", "subregion-not-deleted"),
    "drop-error-release": ("realize-error-leak",),
    "move-acquire-to-init": ("init-leak",),
    "free-in-unrealize": ("freed-in-unrealize",),
    "duplicate-release": ("double-release",),
}

TEARDOWN = ("unrealize", "instance_finalize")
# the mapping family (memory_region_add_subregion): moving a mapping into
# instance_init is a different bug from an init leak
MAPPING = "memory-region-mapping"


# -- mutants -----------------------------------------------------------------

@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] of the unmutated file by ``text``."""

    start: int
    end: int
    text: str


@dataclass
class Mutant:
    operator: str
    file: str
    line: int                 # the mutated call in the unmutated file
    resource: str             # the resource as lifecheck prints it (self.timer)
    family: str               # its API family
    call: str                 # the call that was deleted, moved or copied
    hook: str                 # the phase of the site (unrealize, realize, ...)
    hook_function: str        # the hook the site is reached from
    function: str             # the C function holding the site
    devices: Tuple[str, ...]
    expected: Tuple[str, ...]
    edits: Tuple[Edit, ...] = ()
    local: bool = False       # the resource is a local of ``function``
    # other names a finding may give the resource (what a release of every
    # resource of its family, virtio_del_queue(), released)
    resources: Tuple[str, ...] = ()
    # the family's acquire and release functions: a resource without a
    # field (``self``, a global) is matched together with one of them
    family_calls: Tuple[str, ...] = ()
    statement: str = ""       # the C statement mutated
    facts: Dict[str, object] = field(default_factory=dict)   # what the model knows, for triage
    outcome: str = ""         # found | missed | not-scorable | broken
    detail: str = ""

    @property
    def name(self) -> str:
        return f"{self.file}:{self.line} {self.operator} {self.resource}"


@dataclass
class Skipped:
    """A site an operator fits but where the mutation would not be a bug
    (or cannot be made cleanly)."""

    operator: str
    file: str
    line: int
    resource: str
    reason: str


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    out = text
    for e in sorted(edits, key=lambda e: e.start, reverse=True):
        out = out[:e.start] + e.text + out[e.end:]
    return out


# -- C text ------------------------------------------------------------------

class Source:
    """The text of one C file, with what is code (not comment, string or
    character literal) marked."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self.starts.append(i + 1)
        self.code = bytearray(len(text))     # 1: code, 2: inside a string/char literal
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if ch == "/" and text.startswith("/*", i):
                j = text.find("*/", i + 2)
                i = n if j < 0 else j + 2
                continue
            if ch == "/" and text.startswith("//", i):
                j = text.find("\n", i)
                i = n if j < 0 else j
                continue
            if ch in "\"'":
                j = i + 1
                while j < n and text[j] != ch and text[j] != "\n":
                    j += 2 if text[j] == "\\" else 1
                self.code[i] = 1
                for k in range(i + 1, min(j, n)):
                    self.code[k] = 2
                if j < n:
                    self.code[j] = 1
                i = j + 1
                continue
            self.code[i] = 1
            i += 1

    def offset(self, line: int, col: int) -> int:
        return self.starts[line - 1] + max(col, 1) - 1

    def line_of(self, offset: int) -> int:
        lo, hi = 0, len(self.starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    def is_code(self, i: int) -> bool:
        return 0 <= i < len(self.text) and self.code[i] == 1

    def prev_code(self, i: int) -> int:
        """The index of the last code character before ``i`` that is not
        white space (-1 when none)."""
        i -= 1
        while i >= 0 and (not self.is_code(i) or self.text[i].isspace()):
            i -= 1
        return i

    def next_code(self, i: int) -> int:
        n = len(self.text)
        while i < n and (not self.is_code(i) or self.text[i].isspace()):
            i += 1
        return i

    def matching(self, i: int) -> int:
        """The index of the bracket closing the one at ``i`` (-1: none)."""
        pairs = {"(": ")", "[": "]", "{": "}"}
        stack = [pairs[self.text[i]]]
        j = i + 1
        while j < len(self.text):
            if self.is_code(j):
                ch = self.text[j]
                if ch in pairs:
                    stack.append(pairs[ch])
                elif ch in ")]}":
                    if ch != stack.pop():
                        return -1
                    if not stack:
                        return j
            j += 1
        return -1

    def statement_end(self, start: int) -> int:
        """The index just after the ``;`` ending the statement that starts
        at ``start`` (-1 when it is not a simple statement: a brace at its
        own level, a preprocessor directive inside)."""
        j = start
        n = len(self.text)
        while j < n:
            if self.is_code(j):
                ch = self.text[j]
                if ch in "([":
                    k = self.matching(j)
                    if k < 0 or re.search(r"\n\s*#", self.text[j:k]):
                        return -1
                    j = k
                elif ch in "{}":
                    return -1
                elif ch == "#" and self.text[self.starts[self.line_of(j) - 1]:j].strip() == "":
                    return -1
                elif ch == ";":
                    return j + 1
            j += 1
        return -1

    def starts_statement(self, i: int) -> bool:
        """Whatever comes before ``i`` ends a statement, a label or a
        condition: ``i`` begins a statement."""
        p = self.prev_code(i)
        if p < 0:
            return False
        if self.text[p] in ";{}:":
            return True
        if self.text[p] == ")":
            # the end of an if/while/for condition, not a cast
            o = self.opening(p)
            if o < 0:
                return False
            q = self.prev_code(o)
            m = re.search(r"\b(if|while|for|switch)\s*$", self.text[max(0, q - 8):q + 1])
            return m is not None
        return re.search(r"\b(else|do)$", self.text[max(0, p - 4):p + 1]) is not None

    def opening(self, close: int) -> int:
        """The index of the ``(`` that the ``)`` at ``close`` closes."""
        depth = 0
        j = close
        while j >= 0:
            if self.is_code(j):
                ch = self.text[j]
                if ch == ")":
                    depth += 1
                elif ch == "(":
                    depth -= 1
                    if depth == 0:
                        return j
            j -= 1
        return -1

    def code_text(self, start: int, end: int, keep_strings: bool = True) -> str:
        """text[start:end] without comments, on one line (strings are kept,
        or blanked with ``keep_strings`` false)."""
        out = []
        for i in range(start, end):
            c = self.code[i]
            if c == 1 or (c == 2 and keep_strings):
                ch = self.text[i]
                out.append(" " if ch == "\n" else ch)
            elif c == 2:
                out.append("_")
            elif self.text[i] == "\n":
                out.append(" ")
        return re.sub(r"[ \t]+", " ", "".join(out)).strip()

    def function_body(self, fn: Function) -> Optional[Tuple[int, int]]:
        """(index of ``{``, index of ``}``) of a function definition."""
        try:
            at = self.offset(fn.loc.line, fn.loc.col)
        except IndexError:
            return None
        if not self.text.startswith(fn.name, at):
            line = self.text[self.starts[fn.loc.line - 1]:self.starts[fn.loc.line] if fn.loc.line < len(self.starts) else None]
            m = re.search(r"\b%s\s*\(" % re.escape(fn.name), line)
            if m is None:
                return None
            at = self.starts[fn.loc.line - 1] + m.start()
        paren = self.next_code(at + len(fn.name))
        if paren >= len(self.text) or self.text[paren] != "(":
            return None
        close = self.matching(paren)
        if close < 0:
            return None
        brace = self.next_code(close + 1)
        if brace >= len(self.text) or self.text[brace] != "{":
            return None
        end = self.matching(brace)
        return (brace, end) if end > 0 else None


def deletion(src: Source, start: int, end: int) -> Edit:
    """Replace a statement by an empty one, keeping its line breaks (so
    every other line keeps its number; an ``if`` keeps its body)."""
    return Edit(start, end, ";" + "\n" * src.text.count("\n", start, end))


# -- the model of one file -----------------------------------------------------

def _exprs(fn: Function):
    stack = []
    for site in fn.calls:
        stack.extend(site.args)
    for a in fn.assignments:
        stack.append(a.lhs)
        stack.append(a.rhs)
    while stack:
        e = stack.pop()
        yield e
        stack.extend(e.args)


_IDENT_RE = re.compile(r"[A-Za-z_]\w*")


def self_aliases(fn: Function, param: int) -> Dict[str, str]:
    """Names of ``fn`` that stand for its parameter ``param`` (the device):
    the parameter and locals set from it (``s = FOO(dev)``) -> C type."""
    out: Dict[str, str] = {}
    if param < len(fn.params):
        out[fn.params[param].name] = fn.params[param].type
    root = f"param:{param}"
    for e in _exprs(fn):
        p = e.path
        if p is None or p.root != root:
            continue
        text = e.text or ""
        m = re.fullmatch(r"\s*(\w+)\s*", text)
        if m is not None and not p.steps and not p.address_of:
            name = m.group(1)
        else:
            # s->f, &s->f, s->f[i].g: s is the device when the path's first
            # step is that field (not when s = &dev->sub)
            m = re.match(r"[\s(&]*(\w+)\s*->\s*(\w+)", text)
            if m is None or not p.steps or p.steps[0] != ("->", m.group(2)):
                continue
            name = m.group(1)
        if name in fn.locals:
            out[name] = fn.locals[name].type
    # FOO_GET_CLASS(s) is cast like the device but is its class (QOM names
    # class structs FooClass)
    return {n: t for n, t in out.items() if not re.search(r"Class\s*\*\s*$", t)}


class FileModel:
    """What the unmutated program says about the device types of one file."""

    def __init__(self, program: Program, catalog: Catalog, version, rel: str, text: str):
        self.program = program
        self.catalog = catalog
        self.rel = rel
        self.src = Source(text)
        self.facts = Facts(program, catalog.families.values(), catalog.tables, version)
        self.api = self.facts.api
        self.must_release = self.api.must_release()
        self.types = file_types(program, rel)
        self.devices = {name: self.facts.device(program.types[name]) for name in self.types}
        # function -> phases it is reached in, over the file's types
        self.reached: Dict[Tuple[str, str], Set[str]] = {}
        for name, dev in self.devices.items():
            for phase, events in dev.events.items():
                for ev in events:
                    self.reached.setdefault(ev.function, set()).add(phase)
            for phase, refs in program.types[name].hooks.items():
                for ref in refs:
                    self.reached.setdefault(ref.function, set()).add(phase)

    # -- sites ---------------------------------------------------------------
    def ops(self, phases: Iterable[str], role: str):
        """(device names, op) for every op of ``role`` in ``phases`` whose call
        is made in this file, one per call site, family and resource."""
        seen: Dict[tuple, Tuple[List[str], object]] = {}
        for name, dev in self.devices.items():
            for phase in phases:
                for op in dev.ops[phase]:
                    ev = op.event
                    if op.role != role or ev.site.loc.file != self.rel or ev.function[0] != self.rel \
                            or ev.site.index < 0:
                        continue
                    key = (ev.site.loc, op.family, op.key)
                    if key not in seen:
                        seen[key] = ([], op)
                    if name not in seen[key][0]:
                        seen[key][0].append(name)
        return [(tuple(names), op) for names, op in seen.values()]

    def statement(self, ev) -> Tuple[Optional[Tuple[int, int]], str]:
        """(start, end) of the statement that makes the call of ``ev``, or
        None and why not."""
        site = ev.site
        fn = self.program.functions[ev.function]
        src = self.src
        if site.discarded:
            start = src.offset(site.loc.line, site.loc.col)
            name = site.callee or ""
            if not src.text.startswith(name, start):
                line_start = src.starts[site.loc.line - 1]
                line_end = src.text.find("\n", line_start)
                hits = [m.start() + line_start for m in re.finditer(r"\b%s\s*\(" % re.escape(name),
                                                                      src.text[line_start:line_end])
                        if src.is_code(m.start() + line_start)]
                if len(hits) != 1:
                    return None, "the call is not found in the text (a macro?)"
                start = hits[0]
            p = src.prev_code(start)
            if p >= 0 and src.text[p] == ")" and re.search(r"\(\s*void\s*\)$", src.text[max(0, p - 8):p + 1]):
                start = src.opening(p)
        elif site.result is not None:
            found = [a for a in fn.assignments if a.loc.line <= site.loc.line and a.rhs.kind == "call"
                     and a.rhs.callee == site.callee and a.lhs.path == site.result]
            if len(found) != 1:
                return None, "the call is part of a larger expression or a declaration"
            a = found[0]
            start = src.offset(a.loc.line, a.loc.col)
            head = _IDENT_RE.match(a.lhs.text or "")
            if head is None or not src.text.startswith(head.group(0), start):
                return None, "the assignment is not found in the text"
        else:
            return None, "the call is part of a larger expression"
        if not src.starts_statement(start):
            return None, "the call does not begin a statement"
        end = src.statement_end(start)
        if end < 0:
            return None, "not a simple statement (braces or #if inside)"
        return (start, end), ""

    def moved_block(self, ev, span: Tuple[int, int], target: Function) -> Tuple[Optional[str], str]:
        """The statement at ``span`` (in ``ev.function``) as a block that can
        stand in ``target``: ``{ T *s = (T *)obj; <statement> }``, with every
        name that stands for the device declared from ``target``'s
        parameter.  None when the statement uses other locals."""
        fn = self.program.functions[ev.function]
        self_param = _self_param(ev)
        if self_param is None:
            return None, "the resource is not reached through the device parameter"
        aliases = self_aliases(fn, self_param)
        stmt = self.src.code_text(*span)
        bare = self.src.code_text(*span, keep_strings=False)
        names = set(fn.locals) | {p.name for p in fn.params}
        used = []
        for m in _IDENT_RE.finditer(bare):
            word = m.group(0)
            before = bare[:m.start()].rstrip()
            if before.endswith(("->", ".")) or word not in names:
                continue
            if word not in aliases:
                return None, f"the statement uses '{word}', a local of {fn.name}()"
            if word not in used:
                used.append(word)
        if not target.params:
            return None, "the receiving function has no parameter"
        obj = target.params[0].name
        decls = []
        for word in used:
            typ = aliases[word].strip()
            if not re.fullmatch(r"[\w\s]+\*", typ):
                return None, f"'{word}' has a type the harness cannot declare ({typ})"
            decls.append(f"{typ}{word} = ({typ}){obj};")
        return "{ " + " ".join(decls + [stmt]) + " }", ""

    # -- hooks ---------------------------------------------------------------
    def own_function(self, name: Optional[str]) -> Optional[Function]:
        if not name:
            return None
        key = self.program.resolve(self.rel, name)
        if key is None or key[0] != self.rel:
            return None
        return self.program.functions[key]

    def hook_owner(self, dev_name: str, phase: str, hook_function: str) -> Optional[str]:
        for ref in self.program.types[dev_name].hooks.get(phase, ()):
            if ref.function[1] == hook_function:
                return ref.owner or dev_name
        return None


def _self_param(ev) -> Optional[int]:
    """Which parameter of the function making the call is the device
    itself (not a part of it, such as ``sq`` for ``n->sq[i]``), judged by
    the call's resource paths before and after the walk re-based them on
    the device (None when no parameter is)."""
    site = ev.site
    pairs = [(site.result, ev.result)] + [(a.path, b.path) for a, b in zip(site.args, ev.args)]
    for raw, seen in pairs:
        if raw is None or seen is None or not raw.root.startswith("param:") or seen.root != SELF:
            continue
        if AccessPath(SELF, raw.steps).key() == seen.key():
            return int(raw.root.split(":", 1)[1])
    return None


def file_types(program: Program, rel: str) -> List[str]:
    return sorted(n for n, d in program.types.items() if d.file == rel)


def norm_resource(text: str) -> str:
    """``&self->x.y`` and ``self.x.y`` name the same resource; so do the
    links of a queue.h list (``self.l.tqh_first``,
    ``self.l.tqh_circ.tql_prev->tql_next``: an element of ``self.l``, as
    lifecheck's ``list_key`` has it)."""
    flat = re.sub(r"\s+", "", text or "").replace("->", ".").replace("&", "").replace("(", "").replace(")", "")
    out: List[str] = []
    for part in flat.split("."):
        if part in _QUEUE_FIELDS:
            if out and not out[-1].endswith("{}"):
                out[-1] += "{}"
        else:
            out.append(part)
    return ".".join(out)


def _root_kind(op) -> str:
    if op.path is None:
        return "discarded"
    if op.path.root == SELF:
        return "self"
    return op.path.root_kind


# -- operators ---------------------------------------------------------------

def _new_mutant(fm: FileModel, operator: str, devices, op, span, edits, extra=None) -> Mutant:
    ev = op.event
    m = Mutant(operator=operator, file=fm.rel, line=ev.site.loc.line, resource=str(op.path),
               family=op.family, call=ev.site.callee or "", hook=ev.phase, hook_function=ev.via[0],
               function=ev.function[1], devices=tuple(devices), expected=EXPECTED[operator],
               edits=tuple(edits), local=_root_kind(op) == "local",
               statement=fm.src.code_text(*span))
    m.facts = dict(extra or {})
    m.facts["helper"] = ev.function[1] != ev.via[0]
    fam = fm.api.families.get(op.family)
    m.family_calls = tuple(sorted({c.function for c in fam.calls})) if fam else ()
    if "all" in op.attrs:   # virtio_del_queue(): every queue of the device
        m.resources = tuple(sorted({str(o.path) for name in devices for ops in fm.devices[name].ops.values()
                                    for o in ops if o.role == "acquire" and o.family == op.family
                                    and o.path is not None}))
    return m


def _acquisitions(fm: FileModel, devices, family: str, key: str) -> List[str]:
    """'phase:line' of the acquisitions of (family, key) the model sees."""
    out = set()
    for name in devices:
        for phase, ops in fm.devices[name].ops.items():
            for op in ops:
                if op.role == "acquire" and op.family == family and op.key == key:
                    out.add(f"{phase}:{op.event.site.loc.file}:{op.event.site.loc.line}")
    return sorted(out)


def _acquired_as_other(fm: FileModel, devices, family: str, key: str) -> Optional[str]:
    """The family the model acquires the resource as, when that is not
    ``family`` and nothing acquires it as ``family`` (timer_del() releases
    an embedded timer but only stops one from timer_new())."""
    if _acquisitions(fm, devices, family, key):
        return None
    for name in devices:
        for ops in fm.devices[name].ops.values():
            for op in ops:
                if op.role == "acquire" and op.key == key and op.family != family:
                    return op.family
    return None


def _leak_facts(fm: FileModel, devices, op) -> dict:
    """What the model says that bears on a leak of ``op``'s resource: its
    acquisitions, releases of it in realize (its error exits), a teardown
    call lifecheck cannot see into that receives it, whether it lies inside
    an object the device only links to."""
    out = {"acquired": _acquisitions(fm, devices, op.family, op.key)}
    for phase in ("realize", "runtime"):
        lines = sorted({o.event.site.loc.line for n in devices for o in fm.devices[n].ops[phase]
                        if o.role == "release" and o.family == op.family and o.key == op.key})
        if lines:
            out[f"released_in_{phase}"] = lines
    for n in devices:
        ev = fm.devices[n].handed_off(list(TEARDOWN), op.path)
        if ev is not None:
            out["handed_off_to"] = f"{ev.site.callee or ev.site.callee_text}() line {ev.site.loc.line}"
            break
    if any(fm.devices[n].not_ours(op.key) for n in devices):
        out["not_ours"] = True
    return out


def delete_release(fm: FileModel):
    """Delete a release (of a family the device must release) made only in
    teardown; skipped where the resource is released elsewhere too, is a
    property qdev frees, is acquired as another family, or is mapped into
    a container the device owns."""
    mutants, skipped = [], []
    for devices, op in fm.ops(TEARDOWN, "release"):
        ev = op.event
        if op.family not in fm.must_release or op.path is None:
            continue
        kind = _root_kind(op)
        if kind not in ("self", "global"):
            continue
        phases = fm.reached.get(ev.function, set())
        if phases - set(TEARDOWN):
            skipped.append(Skipped("delete-release", fm.rel, ev.site.loc.line, str(op.path),
                                   f"{ev.function[1]}() also runs in {', '.join(sorted(phases - set(TEARDOWN)))}"))
            continue
        other = [o for name in devices for phase in TEARDOWN for o in fm.devices[name].ops[phase]
                 if o.role == "release" and o.family == op.family and o.event.site.loc != ev.site.loc
                 and (o.key == op.key or "all" in o.attrs)]
        if other:
            o = other[0].event.site.loc
            skipped.append(Skipped("delete-release", fm.rel, ev.site.loc.line, str(op.path),
                                   f"also released at line {o.line} ({other[0].event.site.callee})"))
            continue
        if any(op.key in fm.devices[name].framework_released for name in devices):
            skipped.append(Skipped("delete-release", fm.rel, ev.site.loc.line, str(op.path),
                                   "a property qdev frees itself"))
            continue
        other_family = _acquired_as_other(fm, devices, op.family, op.key)
        if other_family:
            skipped.append(Skipped("delete-release", fm.rel, ev.site.loc.line, str(op.path),
                                   f"acquired as {other_family}: {ev.site.callee}() is not its release"))
            continue
        if op.family == MAPPING:
            owned = [fm.devices[name].container_outside(op.container) for name in devices]
            if all(o is False for o in owned):
                skipped.append(Skipped("delete-release", fm.rel, ev.site.loc.line, str(op.path),
                                       "mapped into a container the device owns (goes away with it)"))
                continue
        span, why = fm.statement(ev)
        if span is None:
            skipped.append(Skipped("delete-release", fm.rel, ev.site.loc.line, str(op.path), why))
            continue
        mutants.append(_new_mutant(fm, "delete-release", devices, op, span, [deletion(fm.src, *span)],
                                   _leak_facts(fm, devices, op)))
    return mutants, skipped


def error_only_nodes(fn: Function) -> Set[int]:
    """Nodes of ``fn``'s CFG that run only on error paths: reachable from a
    node marked as an error path, and not reachable from the entry without
    passing one (error branches and the cleanup ladders they jump to; not a
    shared ``out:`` label the success path reaches too)."""
    cfg = fn.cfg
    if not cfg:
        return set()
    ok = {0}
    todo = [0]
    while todo:
        for s in cfg[todo.pop()].succ:
            if s not in ok and not cfg[s].error:
                ok.add(s)
                todo.append(s)
    bad = set()
    todo = [i for i, n in enumerate(cfg) if n.error]
    bad.update(todo)
    while todo:
        for s in cfg[todo.pop()].succ:
            if s not in bad:
                bad.add(s)
                todo.append(s)
    return {i for i in bad if i not in ok}


def drop_error_release(fm: FileModel):
    """Delete a release that runs only on error exits of a function realize
    reaches (the hook or a helper); skipped where instance_finalize releases
    the resource too (it runs after a failed realize)."""
    mutants, skipped = [], []
    program = fm.program
    # call index -> error-only, per function reached in realize
    error_calls: Dict[Tuple[str, str], Set[int]] = {}
    for key, phases in fm.reached.items():
        if "realize" not in phases or key[0] != fm.rel:
            continue
        fn = program.functions[key]
        nodes = error_only_nodes(fn)
        error_calls[key] = {idx for n in nodes for kind, idx in fn.cfg[n].ops if kind == "c"}
    for devices, op in fm.ops(["realize"], "release"):
        ev = op.event
        if ev.site.index not in error_calls.get(ev.function, ()):
            continue
        if op.family not in fm.must_release or op.path is None:
            continue
        kind = _root_kind(op)
        if kind not in ("self", "global", "local"):
            continue
        if kind != "local":
            fin = [name for name in devices if (op.family, op.key) in fm.devices[name].released(["instance_finalize"])]
            if fin:
                skipped.append(Skipped("drop-error-release", fm.rel, ev.site.loc.line, str(op.path),
                                       "instance_finalize releases it too"))
                continue
            acquired = _acquisitions(fm, devices, op.family, op.key)
        else:
            fn = program.functions[ev.function]
            acquired = sorted({f"{ev.function[1]}:{s.loc.line}" for s in fn.calls
                               if s.result is not None and s.result.key() == op.path.key()
                               and fm.api.acquires(s.callee, {op.family})})
        span, why = fm.statement(ev)
        if span is None:
            skipped.append(Skipped("drop-error-release", fm.rel, ev.site.loc.line, str(op.path), why))
            continue
        mutants.append(_new_mutant(fm, "drop-error-release", devices, op, span, [deletion(fm.src, *span)],
                                   {"acquired": acquired}))
    return mutants, skipped


_TYPEINFO_RE = re.compile(r"^[ \t]*((?:static\s+)?(?:const\s+)?TypeInfo\s+\w+\s*=\s*)\{", re.M)


def hook_insertion(fm: FileModel, owner: str, phase: str, block_for) -> Tuple[Optional[List[Edit]], str]:
    """Edits that put a block at the start (instance_init) or the end
    (instance_finalize) of ``owner``'s own hook for ``phase``; when the type
    has none and its TypeInfo is a plain static initializer, a new hook is
    made just before it.  ``block_for(function)`` gives the block."""
    dev = fm.program.types[owner]
    rec = dev.record
    name = rec.instance_init if phase == "instance_init" else rec.instance_finalize
    src = fm.src
    if name:
        fn = fm.own_function(name)
        if fn is None:
            return None, f"the {phase} of {owner} is not in this file"
        body = src.function_body(fn)
        if body is None:
            return None, f"the body of {fn.name}() is not found"
        block, why = block_for(fn)
        if block is None:
            return None, why
        if phase == "instance_init":
            return [Edit(body[0] + 1, body[0] + 1, " " + block)], ""
        return _at_end(src, body, block)
    if rec.loc.file != fm.rel or rec.registered_by:
        return None, f"{owner} has no {phase} and its TypeInfo is not a static initializer"
    # the record points at its first field: the initializer's brace is the
    # last one before it
    brace = src.offset(rec.loc.line, rec.loc.col)
    while brace >= 0 and not (src.text[brace] == "{" and src.is_code(brace)):
        brace = src.prev_code(brace)
    if brace < 0:
        return None, f"{owner} has no {phase} and its TypeInfo is not found"
    line_start = src.starts[src.line_of(brace) - 1]
    m = _TYPEINFO_RE.match(src.text, line_start)
    if m is None or m.end() - 1 != brace:
        return None, f"{owner} has no {phase} and its TypeInfo is not a plain static initializer"
    fn_name = f"lifecheck_seed_{phase}"
    proto = Function(name=fn_name, loc=rec.loc, end_line=rec.loc.line, static=True,
                     params=(Param("obj", "Object *"),))
    block, why = block_for(proto)
    if block is None:
        return None, why
    return [Edit(line_start, line_start, f"static void {fn_name}(Object *obj) {block} "),
            Edit(m.end(), m.end(), f" .{phase} = {fn_name},")], ""


def _at_end(src: Source, body: Tuple[int, int], block: str) -> Tuple[Optional[List[Edit]], str]:
    inside = src.code_text(body[0] + 1, body[1])
    if re.search(r"(^|[;{}]\s*)return\b[^;{}]*;$", inside):
        return None, "the function ends with a return"
    return [Edit(body[1], body[1], block + " ")], ""


def move_acquire_to_init(fm: FileModel):
    """Move an acquisition statement of realize into the instance_init of
    the type that binds that realize (making one before a plain static
    TypeInfo); skipped where instance_finalize releases the resource (then
    acquiring it in instance_init is correct) or the statement needs other
    locals of realize."""
    mutants, skipped = [], []
    for devices, op in fm.ops(["realize"], "acquire"):
        ev = op.event
        if op.family not in fm.must_release or op.family == MAPPING or _root_kind(op) != "self":
            continue
        if not ev.site.discarded and ev.site.result is None:
            continue
        res = str(op.path)
        owners = sorted({fm.hook_owner(name, "realize", ev.via[0]) or "" for name in devices} - {""})
        owners = [o for o in owners if o in fm.devices]
        if not owners:
            skipped.append(Skipped("move-acquire-to-init", fm.rel, ev.site.loc.line, res,
                                   "the realize hook is bound by a type of another file"))
            continue
        owner = owners[0]
        if op.family in fm.api.with_trait("in-place"):
            skipped.append(Skipped("move-acquire-to-init", fm.rel, ev.site.loc.line, res,
                                   "an in-place struct allocates nothing: set up in instance_init, "
                                   "nothing leaks when the object is never realized"))
            continue
        if any((op.family, op.key) in fm.devices[name].released(["instance_finalize"])
               or (op.family, "*") in fm.devices[name].released(["instance_finalize"]) for name in devices):
            skipped.append(Skipped("move-acquire-to-init", fm.rel, ev.site.loc.line, res,
                                   "instance_finalize releases it: acquiring it in instance_init is fine"))
            continue
        if any(op.key in fm.devices[name].framework_released for name in devices):
            skipped.append(Skipped("move-acquire-to-init", fm.rel, ev.site.loc.line, res,
                                   "a property qdev frees at finalize"))
            continue
        span, why = fm.statement(ev)
        if span is None:
            skipped.append(Skipped("move-acquire-to-init", fm.rel, ev.site.loc.line, res, why))
            continue
        edits, why = hook_insertion(fm, owner, "instance_init", lambda fn: fm.moved_block(ev, span, fn))
        if edits is None:
            skipped.append(Skipped("move-acquire-to-init", fm.rel, ev.site.loc.line, res, why))
            continue
        mutants.append(_new_mutant(fm, "move-acquire-to-init", devices, op, span,
                                   [deletion(fm.src, *span)] + edits,
                                   {"into": owner, "made_init": not fm.program.types[owner].record.instance_init}))
    return mutants, skipped


def free_in_unrealize(fm: FileModel):
    """Move a g_free() of a field, or an object_unparent() of a region the
    device made, from instance_finalize to the end of an unrealize hook of
    the same file."""
    mutants, skipped = [], []
    for devices, op in fm.ops(["instance_finalize"], "release"):
        ev = op.event
        if op.path is None or _root_kind(op) != "self" or not op.path.steps:
            continue
        callee = ev.site.callee
        is_heap = op.family in fm.api.with_trait("heap") and callee == "g_free"
        is_region = callee == "object_unparent" and op.family in fm.api.with_trait("region") \
            and any(fm.devices[n].is_region(op.path) for n in devices)
        if not (is_heap or is_region):
            continue
        res = str(op.path)
        if fm.reached.get(ev.function, set()) - {"instance_finalize"}:
            skipped.append(Skipped("free-in-unrealize", fm.rel, ev.site.loc.line, res,
                                   f"{ev.function[1]}() also runs in another phase"))
            continue
        target = None
        for name in devices:
            for ref in fm.program.types[name].hooks.get("unrealize", ()):
                if ref.function[0] == fm.rel:
                    target = fm.program.functions[ref.function]
                    break
            if target is not None:
                break
        if target is None:
            skipped.append(Skipped("free-in-unrealize", fm.rel, ev.site.loc.line, res,
                                   "no unrealize hook in this file"))
            continue
        span, why = fm.statement(ev)
        if span is None:
            skipped.append(Skipped("free-in-unrealize", fm.rel, ev.site.loc.line, res, why))
            continue
        block, why = fm.moved_block(ev, span, target)
        body = fm.src.function_body(target) if block is not None else None
        if block is None or body is None:
            skipped.append(Skipped("free-in-unrealize", fm.rel, ev.site.loc.line, res,
                                   why or f"the body of {target.name}() is not found"))
            continue
        edits, why = _at_end(fm.src, body, block)
        if edits is None:
            skipped.append(Skipped("free-in-unrealize", fm.rel, ev.site.loc.line, res, why))
            continue
        mutants.append(_new_mutant(fm, "free-in-unrealize", devices, op, span,
                                   [deletion(fm.src, *span)] + edits,
                                   {"into": target.name, "region": is_region,
                                    "embeds_region": any(fm.devices[n].embeds_region(op.path) for n in devices)}))
    return mutants, skipped


def duplicate_release(fm: FileModel):
    """Copy a release made in unrealize to the end of the instance_finalize
    of the type binding that unrealize (made when it has none); skipped
    where a second call is harmless: the API marks the call idempotent or
    clearing, teardown clears the field, or finalize already releases it."""
    mutants, skipped = [], []
    for devices, op in fm.ops(["unrealize"], "release"):
        ev = op.event
        # a field of the device, or the device itself (virtio_cleanup(vdev)),
        # but not a release of every resource of a family (virtio_del_queue())
        if op.family not in fm.must_release or op.path is None or _root_kind(op) != "self" \
                or (not op.path.steps and "all" in op.attrs):
            continue
        res = str(op.path)
        if "idempotent" in op.attrs or "clears" in op.attrs:
            skipped.append(Skipped("duplicate-release", fm.rel, ev.site.loc.line, res,
                                   f"{ev.site.callee}() may be called twice (API table)"))
            continue
        other_family = _acquired_as_other(fm, devices, op.family, op.key)
        if other_family:
            skipped.append(Skipped("duplicate-release", fm.rel, ev.site.loc.line, res,
                                   f"acquired as {other_family}: {ev.site.callee}() is not its release"))
            continue
        if any(fm.devices[n].cleared(op.key, TEARDOWN) for n in devices):
            skipped.append(Skipped("duplicate-release", fm.rel, ev.site.loc.line, res,
                                   "teardown clears the field (the second call sees NULL)"))
            continue
        if any((op.family, op.key) in fm.devices[n].released(["instance_finalize"]) for n in devices):
            skipped.append(Skipped("duplicate-release", fm.rel, ev.site.loc.line, res,
                                   "instance_finalize already releases it"))
            continue
        owners = sorted({fm.hook_owner(name, "unrealize", ev.via[0]) or "" for name in devices} - {""})
        owners = [o for o in owners if o in fm.devices]
        if not owners:
            skipped.append(Skipped("duplicate-release", fm.rel, ev.site.loc.line, res,
                                   "the unrealize hook is bound by a type of another file"))
            continue
        span, why = fm.statement(ev)
        if span is None:
            skipped.append(Skipped("duplicate-release", fm.rel, ev.site.loc.line, res, why))
            continue
        edits, why = hook_insertion(fm, owners[0], "instance_finalize", lambda fn: fm.moved_block(ev, span, fn))
        if edits is None:
            skipped.append(Skipped("duplicate-release", fm.rel, ev.site.loc.line, res, why))
            continue
        rule = fm.catalog.rules.get("double-release")
        covered = getattr(rule.config, "families", None) if rule is not None else None
        left_out = getattr(rule.config, "exclude_families", ()) if rule is not None else ()
        mutants.append(_new_mutant(fm, "duplicate-release", devices, op, span, edits,
                                   {"into": owners[0],
                                    "double_release_family": (covered is None or op.family in covered)
                                    and op.family not in left_out,
                                    "made_finalize": not fm.program.types[owners[0]].record.instance_finalize}))
    return mutants, skipped


FINDERS = {
    "delete-release": delete_release,
    "drop-error-release": drop_error_release,
    "move-acquire-to-init": move_acquire_to_init,
    "free-in-unrealize": free_in_unrealize,
    "duplicate-release": duplicate_release,
}


def find_mutants(fm: FileModel, operators: Sequence[str] = OPERATORS) -> Tuple[List[Mutant], List[Skipped]]:
    """Every mutant of ``operators`` in the file of ``fm`` (and the sites
    skipped, with why), in a stable order."""
    mutants, skipped = [], []
    for op in operators:
        m, s = FINDERS[op](fm)
        mutants.extend(m)
        skipped.extend(s)
    # one call can be a release of two families (object_unref(): a creation
    # reference or a reference): one mutant, either family
    merged: Dict[tuple, Mutant] = {}
    for m in mutants:
        key = (m.operator, m.edits)
        old = merged.get(key)
        if old is None:
            merged[key] = m
            continue
        old.family += "|" + m.family
        old.family_calls = tuple(sorted(set(old.family_calls) | set(m.family_calls)))
        old.resources = tuple(sorted(set(old.resources) | set(m.resources) | {m.resource} - {old.resource}))
    mutants = list(merged.values())
    made = {(m.operator, m.line, m.resource) for m in mutants}
    skipped = [s for s in skipped if (s.operator, s.line, s.resource) not in made]
    seen_skips = set()
    skipped = [s for s in skipped if not ((s.operator, s.line, s.reason) in seen_skips
                                          or seen_skips.add((s.operator, s.line, s.reason)))]
    mutants.sort(key=lambda m: (OPERATORS.index(m.operator), m.line, m.resource))
    skipped.sort(key=lambda s: (OPERATORS.index(s.operator), s.line, s.resource))
    return mutants, skipped


# -- programs and findings -----------------------------------------------------

class Baseline:
    """The unmutated program: every unit of the context files, built once
    (from the cache), and programs for one file's types with that file's
    unit replaced."""

    def __init__(self, tree: QemuTree, catalog: Catalog, units: List[TranslationUnit]):
        self.tree = tree
        self.catalog = catalog
        self.units = {u.file: u for u in units}
        self.program = Program(units, catalog.tables, catalog.api_functions())
        self._subsets: Dict[str, Set[str]] = {}

    def subset(self, rel: str) -> Set[str]:
        """The files a program for ``rel``'s types needs: the file, the
        files of its types' ancestors, of every function they can reach,
        and of every other definition of a name they call (so that calls
        resolve as in the whole program)."""
        got = self._subsets.get(rel)
        if got is not None:
            return got
        p = self.program
        files = {rel}
        names = set(file_types(p, rel))
        for n in list(names):
            names.update(p.ancestors(n))
        for n in names:
            dev = p.types.get(n)
            if dev is None:
                continue
            files.add(dev.file)
            files.update(dev.search_files)
            files.update(p.duplicate_types.get(n, ()))
        # the transports whose callbacks reach a device of these types
        # through a bus getter (rules/tables/callbacks.toml [[bus_child]])
        own = set(file_types(p, rel))
        getters = {c.getter for c in check_callback_table(self.catalog.tables.get("callbacks", {}))[4]
                   if c.type in own}
        if getters:
            files.update(k[0] for k, fn in p.functions.items() if any(s.callee in getters for s in fn.calls))
        seeds = [k for k in p.functions if k[0] in files]
        reach = set(seeds)
        for k in seeds:
            reach.update(nx.descendants(p.call_graph, k))
        files.update(k[0] for k in reach)
        called = {site.callee for k in reach for site in p.functions[k].calls if site.callee}
        for name in called:
            for k in p.by_name.get(name, ()):
                files.add(k[0])
        self._subsets[rel] = files
        return files

    def program_for(self, rel: str, unit: Optional[TranslationUnit] = None, whole: bool = False) -> Program:
        """A program for the types of ``rel`` (with ``unit`` in its place):
        the subset's units, and of every other unit only the fields it
        writes (which decide what is never set while realizing)."""
        keep = set(self.units) if whole else self.subset(rel)
        units = []
        for f, u in self.units.items():
            if f == rel and unit is not None:
                units.append(unit)
            elif f in keep:
                units.append(u)
            else:
                units.append(TranslationUnit(file=f, written=u.written))
        if rel not in self.units and unit is not None:
            units.append(unit)
        return Program(units, self.catalog.tables, self.catalog.api_functions())


@dataclass(frozen=True, order=True)
class Seen:
    """A finding, as the scoring compares them."""

    rule: str
    resource: str
    function: str
    file: str
    line: int
    message: str = ""


def findings_of_file(program: Program, catalog: Catalog, version, rel: str,
                     unit: TranslationUnit) -> List[Seen]:
    """What every applicable rule reports on the device types defined in
    ``rel`` (and, for the program-wide part of a rule, in ``rel``'s own
    functions)."""
    ctx = Facts(program, catalog.families.values(), catalog.tables, version)
    specs = [s for s in sorted(catalog.rules.values(), key=lambda s: s.slug) if s.applies_to(version)]
    names = file_types(program, rel)
    found = _findings_of(ctx, specs, names, extras=False)
    out = {(f.rule, f.loc, f.resource, f.function, f.message) for fs in found.values() for f in fs}
    # the program-wide half (locals of any function) reads one function at a
    # time: a program of this one file gives the same answer for its functions
    mini = Program([unit], catalog.tables, catalog.api_functions())
    mctx = Facts(mini, catalog.families.values(), catalog.tables, version)
    for spec in specs:
        kind = KINDS[spec.kind]
        if kind.check_program is not None:
            out |= {(f.rule, f.loc, f.resource, f.function, f.message) for f in kind.check_program(mctx, spec)}
    return sorted(Seen(rule, res, fn, loc.file, loc.line, msg) for rule, loc, res, fn, msg in out)


def matching(m: Mutant, seen: Iterable[Seen]) -> List[Seen]:
    """The findings of ``seen`` that report the seeded bug of ``m``: an
    expected rule on the mutated resource (``self.x`` and ``self->x`` alike;
    a resource without a field, such as ``self``, also by a call of its
    family in the message; a local in the function mutated)."""
    want = {norm_resource(r) for r in (m.resource,) + tuple(m.resources)}
    out = []
    for s in seen:
        res = norm_resource(s.resource)
        if s.rule not in m.expected or res not in want or (m.local and s.function != m.function):
            continue
        if "." not in res and "[" not in res and m.family_calls \
                and not any(re.search(r"\b%s\(" % re.escape(c), s.message) for c in m.family_calls):
            continue
        out.append(s)
    return out


def score(m: Mutant, before: Sequence[Seen], after: Optional[Sequence[Seen]]) -> Tuple[str, str]:
    """(outcome, detail) of one mutant: found, missed, not-scorable or
    broken (``after`` None: the mutated file did not parse)."""
    if after is None:
        return "broken", ""
    old = matching(m, before)
    if old:
        return "not-scorable", f"the unmutated file already has {old[0].rule} on {old[0].resource} (line {old[0].line})"
    new = matching(m, after)
    if new:
        return "found", f"{new[0].rule} at {new[0].file}:{new[0].line}"
    return "missed", ""


# -- running ---------------------------------------------------------------------

def copy_tree(root: Path, dest: Path) -> None:
    """A copy of the tree whose files are hard links (cheap; a mutated file
    is written as a new file, never through a link), or a real copy where
    links cannot be made."""
    try:
        subprocess.run(["cp", "-al", str(root), str(dest)], check=True, stderr=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError):
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(root, dest, symlinks=True)


class Mutator:
    """Analyses mutated versions of files in a private copy of the tree."""

    def __init__(self, root: Path, work: Path):
        self.dir = work / "tree"
        copy_tree(root, self.dir)
        self.tree = QemuTree.open(self.dir)
        self.pre = Preprocessor(self.tree, work / "stubs")

    def analyse(self, rel: str, text: str, timeout: float = 300) -> Optional[TranslationUnit]:
        path = self.dir / rel
        tmp = path.with_name(path.name + ".seed-tmp")
        tmp.write_text(text, encoding="utf-8", errors="surrogateescape")
        os.replace(tmp, path)  # a new file: the original behind the hard link is untouched
        try:
            with gc_paused(), deadline(timeout):
                unit, _ = analyse_file_with_closure(self.pre, path)
        except FileTimeout:
            return None
        return unit


def recovered(unit: TranslationUnit) -> Set[str]:
    return set(unit.functions)


def parses(orig: TranslationUnit, mutated: TranslationUnit) -> bool:
    """The mutant parses as well as the original: no preprocessing failure
    and every function of the original still recovered."""
    if any(n.kind in ("preprocess", "internal") for n in mutated.notices):
        return False
    return recovered(orig) <= recovered(mutated)


@dataclass
class FileResult:
    file: str
    mutants: List[Mutant]
    skipped: List[Skipped]
    note: str = ""
    seconds: float = 0.0


def run_file(base: Baseline, rel: str, operators: Sequence[str], mutator: Mutator) -> FileResult:
    """Every mutant of ``operators`` in one file, scored."""
    t0 = time.time()
    catalog, version = base.catalog, base.tree.version
    orig_text = (base.tree.root / rel).read_text(encoding="utf-8", errors="surrogateescape")
    orig_unit = base.units[rel]
    fm = FileModel(base.program, catalog, version, rel, orig_text)
    mutants, skipped = find_mutants(fm, operators)
    result = FileResult(rel, mutants, skipped)
    if not mutants:
        result.seconds = time.time() - t0
        return result
    before = findings_of_file(base.program, catalog, version, rel, orig_unit)
    whole = False
    if findings_of_file(base.program_for(rel), catalog, version, rel, orig_unit) != before:
        whole = True
        result.note = "the reduced program differs from the whole one here: used the whole program"
    for m in mutants:
        text = apply_edits(orig_text, m.edits)
        unit = mutator.analyse(rel, text)
        if unit is None or not parses(orig_unit, unit):
            m.outcome, m.detail = "broken", _broken_detail(unit)
            continue
        after = findings_of_file(base.program_for(rel, unit, whole), catalog, version, rel, unit)
        m.outcome, m.detail = score(m, before, after)
    mutator.analyse(rel, orig_text)  # leave the copy as it was
    result.seconds = time.time() - t0
    return result


def _broken_detail(unit: Optional[TranslationUnit]) -> str:
    if unit is None:
        return "analysis timed out"
    notes = [n.message for n in unit.notices if n.kind in ("preprocess", "parse", "internal")]
    return notes[0][:200] if notes else "a function of the original is no longer recovered"


def is_device(program: Program, name: str) -> bool:
    """The type descends from TYPE_DEVICE; in a program without
    hw/core/qdev.c (a small tree), from a type the program does not define
    other than TYPE_OBJECT."""
    chain = [name] + program.ancestors(name)
    if "device" in program.types:
        return "device" in chain
    top = chain[-1]   # the first ancestor the program does not define
    return top not in program.types and top not in ("object", "interface")


def candidate_files(program: Program, rels: Iterable[str]) -> List[str]:
    """Files that define a device type (a descendant of TYPE_DEVICE) with
    an unrealize or instance_finalize hook of its own in the same file; not
    the qdev core (rules/tables/framework.toml), which is no device model."""
    out = set()
    wanted = set(rels) - program.core_files
    for dev in program.types.values():
        if dev.file not in wanted or not is_device(program, dev.name):
            continue
        for phase in TEARDOWN:
            if any(ref.function[0] == dev.file and ref.owner == dev.name
                   for ref in dev.hooks.get(phase, ())):
                out.add(dev.file)
    return sorted(out)


def prepare(root: Path, context: Sequence[str], jobs: int, progress: bool = True,
            use_cache: bool = True) -> Baseline:
    """The unmutated program of the files under ``context`` (folders of
    ``root``), from lifecheck's unit cache where it is valid."""
    tree = QemuTree.open(root)
    catalog = load_catalog()
    files = collect_files(tree, [root / c for c in context]).files
    cache = open_cache(tree, catalog) if use_cache else None
    t0 = time.time()
    with gc_paused():
        units, _ = build_units(tree, files, jobs, cache)
        base = Baseline(tree, catalog, units)
    if progress:
        print(f"# baseline: {len(units)} files of {', '.join(context)} in {time.time() - t0:.0f} s",
              file=sys.stderr)
    return base


# what the worker processes of run_all inherit
_STATE: Dict[str, object] = {}


def _run_file_here(rel: str) -> FileResult:
    """run_file in this process (a worker of run_all), with a copy of the
    tree of its own."""
    mutator = _STATE.get("mutator")
    if mutator is None:
        work = Path(tempfile.mkdtemp(prefix=f"seed-{os.getpid()}-", dir=str(_STATE["work"])))
        mutator = _STATE["mutator"] = Mutator(_STATE["baseline"].tree.root, work)
    return run_file(_STATE["baseline"], rel, _STATE["operators"], mutator)


def run_all(base: Baseline, rels: Sequence[str], operators: Sequence[str], jobs: int, work: Path,
            progress: bool = True) -> List[FileResult]:
    """Every mutant of ``rels``, scored; ``jobs`` worker processes (forked:
    they inherit the baseline), each with its own copy of the tree in
    ``work``."""
    _STATE.update(baseline=base, operators=tuple(operators), work=str(work))
    _STATE.pop("mutator", None)
    results: List[FileResult] = []

    def show(r: FileResult) -> None:
        if progress:
            counts = {}
            for m in r.mutants:
                counts[m.outcome] = counts.get(m.outcome, 0) + 1
            print(f"# {r.file}: {len(r.mutants)} mutants {counts} in {r.seconds:.0f} s"
                  + (f" ({r.note})" if r.note else ""), file=sys.stderr)

    if jobs > 1 and len(rels) > 1 and "fork" in multiprocessing.get_all_start_methods():
        # the workers inherit the baseline (copy on write)
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for r in pool.imap(_run_file_here, rels):
                show(r)
                results.append(r)
    else:
        for rel in rels:
            r = _run_file_here(rel)
            show(r)
            results.append(r)
    return results


# -- reporting -------------------------------------------------------------------

def table(results: Sequence[FileResult], operators: Sequence[str]) -> str:
    rows = [("operator", "mutants", "broken", "not scorable", "scorable", "found", "%", "sites skipped")]
    tot = [0] * 6
    for op in operators:
        ms = [m for r in results for m in r.mutants if m.operator == op]
        sk = [s for r in results for s in r.skipped if s.operator == op]
        broken = sum(m.outcome == "broken" for m in ms)
        ns = sum(m.outcome == "not-scorable" for m in ms)
        found = sum(m.outcome == "found" for m in ms)
        scorable = found + sum(m.outcome == "missed" for m in ms)
        pct = f"{100.0 * found / scorable:.0f}" if scorable else "-"
        rows.append((op, len(ms), broken, ns, scorable, found, pct, len(sk)))
        for i, v in enumerate((len(ms), broken, ns, scorable, found, len(sk))):
            tot[i] += v
    pct = f"{100.0 * tot[4] / tot[3]:.0f}" if tot[3] else "-"
    rows.append(("all", tot[0], tot[1], tot[2], tot[3], tot[4], pct, tot[5]))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for k, r in enumerate(rows):
        lines.append("| " + " | ".join(str(v).ljust(widths[i]) if i == 0 else str(v).rjust(widths[i])
                                      for i, v in enumerate(r)) + " |")
        if k == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def misses(results: Sequence[FileResult]) -> List[str]:
    out = []
    for r in results:
        for m in r.mutants:
            if m.outcome in ("missed", "broken"):
                where = m.function + "()" if m.function == m.hook_function else \
                    f"{m.function}() via {m.hook_function}()"
                extra = f" [broken: {m.detail}]" if m.outcome == "broken" else hints(m)
                out.append(f"{m.file}:{m.line} {m.operator} {m.resource} ({m.call}, {m.family}) "
                           f"in {m.hook}: {where}{extra}")
    return out


def hint_list(m: Mutant) -> List[Tuple[str, str]]:
    """(kind, text) of what the model knows that may explain a miss."""
    f = m.facts
    said = []
    if "acquired" in f and not f["acquired"]:
        said.append(("no acquisition in the model", "no acquisition in the model"))
    for phase in ("realize", "runtime"):
        if f.get(f"released_in_{phase}"):
            lines = ", ".join(map(str, f[f"released_in_{phase}"]))
            said.append((f"also released in {phase}", f"also released in {phase}, line {lines}"))
    if f.get("handed_off_to"):
        said.append(("teardown hands it to a call lifecheck cannot see into",
                     f"teardown hands it to {f['handed_off_to']}"))
    if f.get("not_ours"):
        said.append(("inside a child, a link or a qdev property", "inside a child, a link or a qdev property"))
    if f.get("double_release_family") is False:
        said.append(("family outside double-release's list", "family outside double-release's list"))
    if m.operator == "free-in-unrealize" and not f.get("region") and not f.get("embeds_region"):
        said.append(("plain memory (holds no region)", "plain memory (holds no region)"))
    if m.operator == "drop-error-release" and f.get("helper"):
        said.append(("error exit of a helper", "error exit of a helper"))
    if m.local:
        said.append(("a local", "a local"))
    return said


def hints(m: Mutant) -> str:
    """What the model knows that may explain a miss, in brackets."""
    said = [text for _, text in hint_list(m)]
    return f" [{'; '.join(said)}]" if said else ""


def hint_counts(results: Sequence[FileResult]) -> str:
    """Missed mutants per operator and hint (a mutant may have several)."""
    counts: Dict[Tuple[str, str], int] = {}
    for r in results:
        for m in r.mutants:
            if m.outcome != "missed":
                continue
            for kind in [k for k, _ in hint_list(m)] or ["(no hint)"]:
                counts[(m.operator, kind)] = counts.get((m.operator, kind), 0) + 1
    return "\n".join(f"  {n:4}  {op}: {kind}" for (op, kind), n in
                     sorted(counts.items(), key=lambda kv: (OPERATORS.index(kv[0][0]), -kv[1], kv[0][1])))


def to_json(results: Sequence[FileResult], meta: dict) -> dict:
    def mutant(m: Mutant) -> dict:
        d = asdict(m)
        d["edits"] = [{"start": e.start, "end": e.end, "text": e.text} for e in m.edits]
        return d
    return {
        "meta": meta,
        "files": [{"file": r.file, "seconds": round(r.seconds, 1), "note": r.note} for r in results],
        "mutants": [mutant(m) for r in results for m in r.mutants],
        "skipped": [asdict(s) for r in results for s in r.skipped],
    }


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True, type=Path, help="the QEMU tree (never modified)")
    ap.add_argument("--files", nargs="+", default=None, help="device files to mutate (relative to the root)")
    ap.add_argument("--sample", type=int, default=None,
                    help="mutate N files drawn from those with an unrealize or instance_finalize hook")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--operators", default=",".join(OPERATORS),
                    help="comma-separated, from: " + ", ".join(OPERATORS))
    ap.add_argument("--context", nargs="+", default=["hw"],
                    help="folders analysed once for the program the mutants run in (default: hw)")
    ap.add_argument("--json", type=Path, default=None, help="write every mutant and its outcome here")
    ap.add_argument("-j", "--jobs", type=int, default=1)
    ap.add_argument("--list", action="store_true", help="only list the mutants and skipped sites")
    args = ap.parse_args(argv)
    operators = [o.strip() for o in args.operators.split(",") if o.strip()]
    bad = [o for o in operators if o not in OPERATORS]
    if bad:
        ap.error(f"unknown operator(s): {', '.join(bad)}")
    started = time.time()
    root = args.root.resolve()
    context = list(args.context) + [f for f in (args.files or []) if not any(
        f == c or f.startswith(c.rstrip("/") + "/") for c in args.context)]
    base = prepare(root, context, args.jobs)
    if args.files:
        rels = [QemuTree.open(root).relative(root / f) for f in args.files]
        missing = [r for r in rels if r not in base.units]
        if missing:
            ap.error(f"not analysed: {', '.join(missing)}")
    else:
        pool = candidate_files(base.program, base.units)
        rels = pool
        if args.sample is not None and args.sample < len(pool):
            rels = sorted(random.Random(args.seed).sample(pool, args.sample))
    if args.list:
        for rel in rels:
            text = (root / rel).read_text(encoding="utf-8", errors="surrogateescape")
            mutants, skipped = find_mutants(FileModel(base.program, base.catalog, base.tree.version, rel, text),
                                            operators)
            for m in mutants:
                print(f"{m.name} ({m.call}, {m.family}) in {m.hook}: {m.statement}")
            for sk in skipped:
                print(f"{sk.file}:{sk.line} {sk.operator} {sk.resource} skipped: {sk.reason}")
        return 0
    with tempfile.TemporaryDirectory(prefix="lifecheck-seed-") as work:
        results = run_all(base, rels, operators, max(1, args.jobs), Path(work))
    elapsed = time.time() - started
    if args.json:   # first: the printing below may meet a closed pipe
        meta = {"root": str(root), "version": base.tree.version_text, "files": rels,
                "operators": operators, "seed": args.seed, "sample": args.sample,
                "seconds": round(elapsed, 1)}
        args.json.write_text(json.dumps(to_json(results, meta), indent=1) + "\n")
    print(f"# {len(rels)} files, {sum(len(r.mutants) for r in results)} mutants, "
          f"{elapsed:.0f} s (QEMU {base.tree.version_text})")
    print(table(results, operators))
    missed = misses(results)
    if missed:
        print("\nmissed mutants by what the model says about them:")
        print(hint_counts(results))
        print("\nmissed and broken mutants:")
        for line in missed:
            print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
