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

from .fix.patterns import CHECKED, FIX_PATTERNS
from .rules.catalog import RuleSpec
from .rules.kinds import KINDS

PROSE, CODE, ITEMS = "prose", "code", "items"
SEVERITY_LEVELS = ("note", "warning", "error")

Section = Tuple[str, str, Union[str, Tuple[str, ...]]]


def default_severity(spec: RuleSpec) -> str:
    """The severity a finding of this rule gets unless raised for unplug."""
    severity = spec.config.default_severity
    return severity if severity in SEVERITY_LEVELS else "warning"


def severity_text(spec: RuleSpec) -> str:
    text = default_severity(spec)
    if spec.config.severity_by_unplug:
        text += ("; raised to error for devices that can be hot-unplugged"
                 " (types that descend from a hotpluggable bus device such"
                 " as PCI, USB or virtio)")
    return text


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
        ("Default severity", PROSE, severity_text(spec)),
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
