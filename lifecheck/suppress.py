"""In-source suppressions: ``/* lifecheck: ignore[slug] reason */``.

Where a comment goes decides what it silences:

* on a line of code: findings of ``slug`` reported on that line;
* on a comment-only line (or block) directly above a line of code: findings
  on that next line;
* on the first line of a function definition, on its opening-brace line, or
  in the comment block directly above the function (a return type on its own
  line may sit between): every finding of ``slug`` inside the function.

Several rules are separated by commas: ``ignore[rule-a, rule-b]``.  The
reason is free text; write one, reviewers will ask.  A suppression that
silences nothing (the bug was fixed, the code moved) is itself reported, as
a note-level finding of the pseudo-rule ``unused-suppression``, so stale
comments do not pile up.  Suppressions of rules that did not run (not
selected, or not for this QEMU version) are left alone.

This module reads source text only; it knows nothing about pycparser.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set, Tuple

from . import activity
from .findings import CONSEQUENCES, Finding, FunctionSpan, Report, number_findings
from .model import Location
from .rules.spec import RuleConfig, RuleDoc, RuleSpec

UNUSED = "unused-suppression"

_DIRECTIVE_RE = re.compile(r"lifecheck:\s*ignore\[([^\]]*)\]([^\n]*)")

UNUSED_RULE = RuleSpec(
    slug=UNUSED,
    kind="workflow",
    summary="A lifecheck: ignore[...] comment that no longer silences any finding.",
    doc=RuleDoc(
        what=("A suppression comment /* lifecheck: ignore[slug] reason */ that matched no "
              "finding of that rule in this run, or that names no rule."),
        why=("A suppression outlives the bug it silenced: once the code is fixed or moved, the "
             "comment hides nothing but would silence the next, different finding on that line "
             "or function.  Stale suppressions also mislead readers."),
        bad=("static void foo_realize(DeviceState *dev, Error **errp)\n{\n"
             "    /* lifecheck: ignore[subregion-not-deleted] board device */\n"
             "    memory_region_add_subregion(sysmem, 0, &s->io);   /* deleted in foo_unrealize */\n}\n"),
        good=("static void foo_realize(DeviceState *dev, Error **errp)\n{\n"
              "    memory_region_add_subregion(sysmem, 0, &s->io);\n}\n"),
        references=("lifecheck README, 'Suppressing a finding'",),
    ),
    config=RuleConfig(default_severity="note"),
)


@dataclass
class Directive:
    file: str
    line: int          # where the comment is
    col: int
    slugs: Tuple[str, ...]
    reason: str
    target: int = 0    # the line of code it applies to (0: none)
    function: Optional[FunctionSpan] = None  # set for function scope


def _comment_only(text: str) -> bool:
    s = text.strip()
    return s.startswith(("/*", "//", "*"))


def _in_comment(text: str, pos: int) -> bool:
    head = text[:pos]
    return "/*" in head or "//" in head or head.strip().startswith("*")


def _comment_end(lines: List[str], index: int) -> int:
    """Index of the last line of the comment that holds line ``index``."""
    i = index
    if "/*" in lines[i] and "*/" not in lines[i][lines[i].rfind("/*"):]:
        while i + 1 < len(lines) and "*/" not in lines[i]:
            i += 1
    elif lines[i].strip().startswith("*") and "*/" not in lines[i]:
        while i + 1 < len(lines) and "*/" not in lines[i]:
            i += 1
    while i + 1 < len(lines) and lines[i + 1].strip().startswith("//") and lines[i].strip().startswith("//"):
        i += 1
    return i


def _return_type_line(text: str) -> bool:
    s = text.strip()
    return bool(s) and not _comment_only(s) and not s.startswith("#") and s[-1] not in ";{}),"


def parse_directives(file: str, text: str) -> List[Directive]:
    """Every ``lifecheck: ignore[...]`` inside a comment of ``text``, with
    the line it applies to."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        for m in _DIRECTIVE_RE.finditer(line):
            if not _in_comment(line, m.start()):
                continue
            slugs = tuple(s.strip() for s in m.group(1).split(",") if s.strip())
            reason = m.group(2).split("*/", 1)[0].strip()
            head = line[:m.start()]
            opener = max(head.rfind("/*"), head.rfind("//"))
            col = opener + 1 if opener >= 0 else len(line) - len(line.lstrip()) + 1
            d = Directive(file, i + 1, col, slugs, reason)
            if not _comment_only(line):
                d.target = i + 1
            else:
                end = _comment_end(lines, i)
                nxt = end + 1
                if nxt < len(lines) and lines[nxt].strip() and not _comment_only(lines[nxt]):
                    d.target = nxt + 1
            out.append(d)
    return out


def _header_lines(lines: List[str], span: FunctionSpan) -> Tuple[int, int]:
    """First and last line (1-based) of a function's head: an optional
    return-type line above the name, through the opening brace."""
    first = span.start
    if first >= 2 and _return_type_line(lines[first - 2]):
        first -= 1
    last = span.start
    while last <= min(span.end, span.start + 20) and last <= len(lines) and "{" not in lines[last - 1]:
        last += 1
    return first, min(last, span.end)


def _attach_functions(directives: List[Directive], lines: List[str], spans: List[FunctionSpan]) -> None:
    heads = [(_header_lines(lines, s), s) for s in spans]
    for d in directives:
        for (first, last), span in heads:
            if first <= d.target <= last:
                d.function = span
                break


def _read(root: Path, rel: str) -> Optional[str]:
    try:
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def _covers(d: Directive, f: Finding) -> bool:
    if f.rule not in d.slugs or f.loc.file != d.file:
        return False
    if d.function is not None:
        return d.function.start <= f.loc.line <= d.function.end
    return d.target != 0 and f.loc.line == d.target


def _enclosing(spans: List[FunctionSpan], line: int) -> str:
    best = ""
    for s in spans:
        if s.start <= line <= s.end:
            best = s.name
    return best


def apply(report: Report, known_rules: Iterable[str], files: Optional[Iterable[str]] = None) -> None:
    """Drop suppressed findings from ``report`` and add an
    ``unused-suppression`` note for each suppression that silenced nothing.
    ``known_rules`` are all rule slugs of the catalog (a suppression naming
    none of them is unused); the rules that ran are ``report.rules``."""
    known: Set[str] = set(known_rules) | {UNUSED}
    ran: Set[str] = {spec.slug for spec in report.rules}
    root = Path(report.root)
    scan = set(files if files is not None else report.analysed_files)
    scan.update(f.loc.file for f in report.findings)
    directives: List[Directive] = []
    for rel in sorted(scan):
        activity.doing("reading suppression comments", rel)
        text = _read(root, rel)
        if text is None or "lifecheck:" not in text:
            continue
        found = parse_directives(rel, text)
        if found:
            _attach_functions(found, text.splitlines(), report.spans.get(rel, []))
            directives.extend(found)
    if not directives:
        return
    by_file: Dict[str, List[Directive]] = {}
    for d in directives:
        by_file.setdefault(d.file, []).append(d)
    used: Set[Tuple[int, str]] = set()
    kept = []
    unused = []
    for f in report.findings:
        hit = None
        for d in by_file.get(f.loc.file, []):
            if _covers(d, f):
                hit = (id(d), f.rule)
                break
        if hit is None:
            kept.append(f)
        else:
            used.add(hit)
            report.suppressed += 1
    for d in directives:
        spans = report.spans.get(d.file, [])
        for slug in d.slugs:
            if (id(d), slug) in used:
                continue
            if slug not in known:
                why = f"names no rule '{slug}'"
            elif slug not in ran:
                continue  # the rule did not run: nothing to say about it
            elif d.target == 0:
                why = f"for [{slug}] is not attached to code (put it on the line, or directly above it)"
            else:
                scope = f"function {d.function.name}" if d.function else f"line {d.target}"
                why = f"for [{slug}] silences no finding on {scope}; remove it"
            unused.append(Finding(
                rule=UNUSED, severity="note", loc=Location(d.file, d.line, d.col),
                message=f"lifecheck: ignore {why}", function=_enclosing(spans, d.line),
                resource=slug, hook="", device="", shape="stale-suppression",
                consequence="none", rank=CONSEQUENCES["none"].rank))
    # numbered among themselves: the other findings keep their fingerprints
    report.findings = sorted(kept + number_findings(unused), key=lambda f: f.sort_key())
    if any(f.rule == UNUSED for f in report.findings) and UNUSED not in ran:
        report.rules = list(report.rules) + [UNUSED_RULE]
