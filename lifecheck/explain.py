"""Rule documentation, rendered from a rule's data (`lifecheck explain SLUG`).

The text comes only from a ``RuleSpec`` and its ``RuleDoc``, so a rule added
as a data file is documented without touching Python.  ``render`` gives the
plain text the terminal shows; ``render_markdown`` gives the same sections as
Markdown for the SARIF rule table.  This module knows nothing about C, the
program model or the analyses.
"""
from __future__ import annotations

import textwrap
from typing import List, Tuple, Union

from .findings import CONSEQUENCES, SHAPES
from .fix.patterns import CHECKED, FIX_PATTERNS
from .rules.catalog import RuleSpec
from .rules.consequence import possible
from .rules.kinds import KINDS

PROSE, CODE, ITEMS = "prose", "code", "items"
SEVERITY_LEVELS = ("note", "warning", "error")

Section = Tuple[str, str, Union[str, Tuple[str, ...]]]


_NEEDS = {
    "unplug": "the device can be hot-unplugged",
    "runtime-realize": "the device can be added with device_add at run time",
    "instantiation": "the type is not abstract (QMP device-list-properties creates any such type)",
    "": "always",
}


def consequences_of(spec: RuleSpec) -> Tuple[str, ...]:
    """The consequences a finding of this rule can have."""
    kind = KINDS.get(spec.kind)
    shape = kind.shape if kind is not None else ("stale-suppression" if spec.kind == "workflow" else "")
    found = possible(shape, getattr(spec.config, "consequence", ""))
    phases = getattr(spec.config, "acquire_phases", None)
    if phases is not None:   # what instance_init acquires is released by finalize, after introspection
        init = {"use-after-free-after-introspection", "leak-per-introspection"}
        unplug = {"leak-per-unplug"}
        found = tuple(c for c in found if (c not in init or "instance_init" in phases)
                      and (c not in unplug or set(phases) - {"instance_init"}))
    return found


def default_severity(spec: RuleSpec) -> str:
    """The highest severity a finding of this rule can get (the worst of
    its consequences, when the device can meet the event it needs)."""
    worst = max((CONSEQUENCES[c].severity for c in consequences_of(spec)), key=SEVERITY_LEVELS.index,
                default=spec.config.default_severity)
    return worst if worst in SEVERITY_LEVELS else "warning"


def severity_text(spec: RuleSpec) -> str:
    return ("by consequence (above): its severity where the device can meet the event it needs, "
            "a step lower (and hidden by default) where that holds only in principle")


def consequence_lines(spec: RuleSpec) -> Tuple[str, ...]:
    return tuple(f"{c}: {CONSEQUENCES[c].title} ({CONSEQUENCES[c].severity} when "
                 f"{_NEEDS[CONSEQUENCES[c].needs]})" for c in consequences_of(spec))


def render_consequence(slug: str) -> str:
    """``lifecheck explain CONSEQUENCE``."""
    c = CONSEQUENCES[slug]
    lines = [f"{slug} (consequence)", "", c.title[0].upper() + c.title[1:] + ".", "", "What goes wrong",
             textwrap.fill(c.what, 78), "", "When", f"{c.when}; it can happen where {_NEEDS[c.needs]}.",
             "", "Severity and rank",
             textwrap.fill(f"{c.severity}, rank {c.rank} of 100 where it can happen; otherwise it holds only "
                           f"in principle: a severity lower, rank {c.rank // 4}, and hidden unless "
                           f"--show-all (or show-all = true in lifecheck.toml).", 78)]
    return "\n".join(lines) + "\n"


def sections(spec: RuleSpec) -> List[Section]:
    """The documentation of ``spec`` as (heading, kind, body) triples, in the
    order every renderer prints them."""
    doc = spec.doc
    result: List[Section] = [
        ("What it finds", PROSE, doc.what),
        ("Why it is a bug", PROSE, doc.why),
    ]
    if doc.known_problems.strip():
        result.append(("Known problems", PROSE, doc.known_problems))
    result += [
        ("Bad example", CODE, doc.bad),
        ("Good example", CODE, doc.good),
        ("QEMU references", ITEMS, tuple(doc.references)),
    ]
    kind = KINDS.get(spec.kind)
    pattern = FIX_PATTERNS.get(kind.shape) if kind is not None else None
    if pattern:
        result.append(("Fix", PROSE, pattern + " " + CHECKED))
    result += [
        ("Applies to", PROSE, spec.versions_text()),
        ("Consequences", ITEMS, consequence_lines(spec)),
        ("Severity", PROSE, severity_text(spec)),
    ]
    return result


def _prose(text: str) -> str:
    return textwrap.dedent(text).strip()


def _code(text: str) -> str:
    return textwrap.dedent(text).strip("\n").rstrip()


def render(spec: RuleSpec) -> str:
    """Plain-text documentation of one rule, like ``ruff rule X``."""
    lines = [f"{spec.slug} ({spec.kind})", "", _prose(spec.summary)]
    for heading, kind, body in sections(spec):
        lines += ["", heading]
        if kind == CODE:
            lines.append(textwrap.indent(_code(body), "    "))
        elif kind == ITEMS:
            lines += [f"  - {item}" for item in body] or ["  (none)"]
        else:
            lines.append(_prose(body))
    return "\n".join(lines) + "\n"


def render_markdown(spec: RuleSpec) -> str:
    """The same documentation as Markdown (no title: viewers show the rule
    name above it)."""
    parts = [_prose(spec.summary)]
    for heading, kind, body in sections(spec):
        if kind == CODE:
            text = f"```c\n{_code(body)}\n```"
        elif kind == ITEMS:
            text = "\n".join(f"- {item}" for item in body) or "(none)"
        else:
            text = _prose(body)
        parts.append(f"## {heading}\n\n{text}")
    return "\n\n".join(parts) + "\n"
