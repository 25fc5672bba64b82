"""What a fix is, and how fixes become text.

A fix is a few line-level operations on the original source text (never
the preprocessed text): insert lines before a line, delete a statement's
lines, and create a hook function with its binding.  Two fixes that create
the same hook (two leaks released by one new unrealize) share it when
they are applied together, so ``lifecheck fix --apply`` and ``--diff``
give one function, not two.
"""
from __future__ import annotations

import difflib
import re
import textwrap
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

INDENT = "    "   # QEMU's coding style: four spaces, no tabs


@dataclass(frozen=True)
class Insert:
    """Lines (each ending in a newline) inserted before ``line`` (1-based;
    one past the last line appends).  ``order`` sorts inserts at the same
    line (a realize error exit releases in reverse acquisition order)."""

    file: str
    line: int
    text: str
    order: Tuple = ()


@dataclass(frozen=True)
class Delete:
    """Lines ``start`` to ``end`` (inclusive) removed: one statement."""

    file: str
    start: int
    end: int
    # the deletion of a declaration left unused: its variable, and the
    # lines of the function (another fix must not add a use of it there)
    var: str = ""
    scope: Tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class NewHook:
    """A hook function to create (``static void foo_exit(PCIDevice *dev)``)
    after line ``after``, holding ``decl`` (the device state variable) and
    ``body``, bound by ``binding`` inserted before line ``binding_line``
    (``k->exit = foo_exit;`` in class_init, ``.instance_finalize = ...`` in
    the TypeInfo)."""

    file: str
    name: str
    after: int
    signature: str
    decl: str
    body: Tuple[str, ...]
    binding_line: int
    binding: str
    phase: str = ""
    head: str = ""    # declarations before ``decl`` (the class of a chained hook)
    tail: str = ""    # the last statement (the chained call of the parent's hook)


Op = Union[Insert, Delete, NewHook]


@dataclass(frozen=True)
class Fix:
    """One finding's fix: the operations, a one-line description (the
    text hint, the SARIF fix description), the patch subject and the
    lifecycle reason for the patch body."""

    fingerprint: str
    description: str
    subject: str
    reason: str
    ops: Tuple[Op, ...]

    @property
    def files(self) -> List[str]:
        return sorted({op.file for op in self.ops})


@dataclass(frozen=True)
class FixResult:
    """What ``lifecheck fix`` has to say about one finding: a fix that
    passed the re-check, or why there is none."""

    fix: Optional[Fix] = None
    none: str = ""          # "fix: none (<this>)"
    tried: int = 0          # candidates computed
    failed: Tuple[str, ...] = ()   # why candidates failed the re-check

    def hint(self) -> str:
        return f"fix: {self.fix.description}" if self.fix is not None else f"fix: none ({self.none})"


class EditError(Exception):
    """Fixes whose edits overlap or point outside the file."""


def _expand(ops: Iterable[Op]) -> List[Union[Insert, Delete]]:
    """NewHooks turned into inserts; hooks of the same name in one file
    merged (their bodies in order, each statement once)."""
    hooks: Dict[Tuple[str, str], NewHook] = {}
    bodies: Dict[Tuple[str, str], List[str]] = {}
    out: List[Union[Insert, Delete]] = []
    for op in ops:
        if isinstance(op, NewHook):
            key = (op.file, op.name)
            if key not in hooks:
                hooks[key] = op
                bodies[key] = []
            for stmt in op.body:
                if stmt not in bodies[key]:
                    bodies[key].append(stmt)
        else:
            out.append(op)
    for key, h in hooks.items():
        body = "".join(bodies[key])
        decl = h.head + h.decl + ("\n" if h.head or h.decl else "")
        func = f"\n{h.signature}\n{{\n{decl}{body}{h.tail}}}\n"
        out.append(Insert(h.file, h.after + 1, func, (1,)))
        out.append(Insert(h.file, h.binding_line, h.binding, (0,)))
    return out


def replacements(fix: Fix) -> List[Tuple[str, List[Tuple[int, int, str]]]]:
    """The fix as (file, [(start line, end line, text)]): lines start to
    end-1 replaced by text (start == end: text inserted before start), in
    line order; what SARIF ``replacements`` need."""
    by_file: Dict[str, List[Tuple[int, int, str]]] = {}
    for op in _expand(fix.ops):
        if isinstance(op, Insert):
            by_file.setdefault(op.file, []).append((op.line, op.line, op.text))
        else:
            by_file.setdefault(op.file, []).append((op.start, op.end + 1, ""))
    return [(f, sorted(v, key=lambda e: (e[0], e[1]))) for f, v in sorted(by_file.items())]


def apply_ops(texts: Dict[str, str], ops: Sequence[Op]) -> Dict[str, str]:
    """The new text of every file ``ops`` touch.  ``texts``: file ->
    original text.  Raises ``EditError`` when two deletions overlap, a
    line is out of range, or a variable whose declaration one fix drops
    is used by what another adds in the same function."""
    flat = _expand(ops)
    for d in flat:
        if isinstance(d, Delete) and d.var:
            for ins in flat:
                if isinstance(ins, Insert) and ins.file == d.file and d.scope[0] <= ins.line <= d.scope[1] \
                        and re.search(rf"\b{re.escape(d.var)}\b", ins.text):
                    raise EditError(f"{d.file}: one fix drops the declaration of '{d.var}', another uses it")
    out: Dict[str, str] = {}
    for file in sorted({op.file for op in flat}):
        lines = texts[file].splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        inserts: Dict[int, List[Insert]] = {}
        seen = set()
        deleted = set()
        for op in flat:
            if op.file != file:
                continue
            if isinstance(op, Insert):
                if not 1 <= op.line <= len(lines) + 1:
                    raise EditError(f"{file}: line {op.line} is outside the file")
                if (op.line, op.text) in seen:
                    continue   # the same declaration added by two fixes
                seen.add((op.line, op.text))
                inserts.setdefault(op.line, []).append(op)
            else:
                rng = set(range(op.start, op.end + 1))
                if rng & deleted:
                    raise EditError(f"{file}: two fixes delete line {min(rng & deleted)}")
                if op.start < 1 or op.end > len(lines):
                    raise EditError(f"{file}: lines {op.start}-{op.end} are outside the file")
                deleted |= rng
        new: List[str] = []
        for i in range(1, len(lines) + 2):
            for ins in sorted(inserts.get(i, ()), key=lambda x: x.order):
                new.append(ins.text)
            if i <= len(lines) and i not in deleted:
                new.append(lines[i - 1])
        out[file] = "".join(new)
    return out


def unified_diff(file: str, old: str, new: str) -> str:
    """A git-style diff of one file (``git apply`` reads it)."""
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    # difflib.unified_diff, without its "popular line" heuristic: in a file
    # of more than 200 lines it takes "    }" and blank lines for junk and
    # shows an unchanged closing brace as removed and added again
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    out: List[str] = []
    for group in matcher.get_grouped_opcodes(3):
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(" " + line for line in a[i1:i2])
                continue
            out.extend("-" + line for line in a[i1:i2])
            out.extend("+" + line for line in b[j1:j2])
    if not out:
        return ""
    return f"diff --git a/{file} b/{file}\n--- a/{file}\n+++ b/{file}\n" + "".join(out)


def _range(start: int, stop: int) -> str:
    """A hunk's line range, as difflib (and diff -u) write it."""
    length = stop - start
    begin = start + 1
    if length == 1:
        return f"{begin}"
    if not length:
        begin -= 1
    return f"{begin},{length}"


def diff_of(texts: Dict[str, str], ops: Sequence[Op]) -> str:
    new = apply_ops(texts, ops)
    return "".join(unified_diff(f, texts[f], new[f]) for f in sorted(new))


def diffstat(diff: str) -> str:
    """``git format-patch``'s summary of a diff."""
    rows = []
    cur = None
    for line in diff.splitlines():
        if line.startswith("diff --git "):
            cur = [line.split(" b/", 1)[1], 0, 0]
            rows.append(cur)
        elif cur is not None and line.startswith("+") and not line.startswith("+++"):
            cur[1] += 1
        elif cur is not None and line.startswith("-") and not line.startswith("---"):
            cur[2] += 1
    out = [f" {name} | {plus + minus} {'+' * plus}{'-' * minus}" for name, plus, minus in rows]
    ins = sum(r[1] for r in rows)
    dels = sum(r[2] for r in rows)
    parts = [f" {len(rows)} file{'s' if len(rows) != 1 else ''} changed"]
    if ins:
        parts.append(f" {ins} insertion{'s' if ins != 1 else ''}(+)")
    if dels:
        parts.append(f" {dels} deletion{'s' if dels != 1 else ''}(-)")
    return "\n".join(out + [",".join(parts)]) + "\n"


PLACEHOLDER_SIGNOFF = "Your Name <your.name@example.org>"


def patch_text(fix: Fix, diff: str, signoff: str, author: str = "",
               date: str = "Thu, 1 Jan 1970 00:00:00 +0000") -> str:
    """A ``git format-patch``-style mail for one fix, ready for ``git am``:
    subject ``hw/<dir>: <what>``, the lifecycle reason wrapped at 72
    columns, and the Signed-off-by line QEMU requires."""
    who = author or signoff
    body = "\n\n".join(textwrap.fill(p, 72, break_long_words=False, break_on_hyphens=False)
                       for p in fix.reason.split("\n\n"))
    return (f"From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
            f"From: {who}\nDate: {date}\nSubject: [PATCH] {fix.subject}\n\n"
            f"{body}\n\nSigned-off-by: {signoff}\n---\n{diffstat(diff)}\n{diff}-- \nlifecheck\n")
