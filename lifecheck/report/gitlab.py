"""GitLab Code Quality report (``artifacts:reports:codequality``).

A JSON array of issues in the subset of the Code Climate format GitLab
reads: ``description``, ``check_name``, ``fingerprint``, ``severity``,
``location.path`` and ``location.lines.begin``.  Paths are relative to the
tree root, which is the repository root in a QEMU fork.  Byte-identical for
identical input.  Like every reporter it sees only a ``Report``.
"""
from __future__ import annotations

import json

from ..findings import Finding, Report
from .text import consequence_text

# GitLab's scale is info, minor, major, critical, blocker.  An error is a
# use after free or a stale mapping the device can meet; a warning a leak
# it can meet (or a use after free that holds only in principle, shown
# with --show-all); a note the rest.
SEVERITY = {"error": "critical", "warning": "minor", "note": "info"}


def _issue(f: Finding) -> dict:
    return {
        "type": "issue",
        "check_name": f.rule,
        "description": f"{' '.join(f.message.split())}{consequence_text(f)} [{f.rule}]",
        "categories": ["Bug Risk"],
        "severity": SEVERITY.get(f.severity, "minor"),
        "fingerprint": f.fingerprint,
        "location": {"path": f.loc.file, "lines": {"begin": max(f.loc.line, 1)}},
    }


def document(rep: Report) -> list:
    """The Code Quality report as plain data."""
    return [_issue(f) for f in sorted(rep.findings, key=lambda f: f.sort_key())]


def report(rep: Report, out) -> None:
    """Write ``rep`` as a GitLab Code Quality report to ``out``."""
    out.write(json.dumps(document(rep), indent=2) + "\n")
