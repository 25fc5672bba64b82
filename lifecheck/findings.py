"""Findings: what the rules report and the reporters print.

A finding names one resource of one device that is released in the wrong
phase, or never.  It carries everything a reporter needs, so reporters never
look back into the model.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from .model import Location

SEVERITIES = ("note", "warning", "error")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class RelatedLocation:
    """Another place that explains the finding: where the resource was
    acquired, where a release is (or is missing)."""

    loc: Location
    message: str
    role: str  # "acquire", "release", "missing-release", "hook"


@dataclass(frozen=True)
class Finding:
    rule: str               # the slug, e.g. "subregion-not-deleted"
    severity: str           # "error" | "warning" | "note"
    loc: Location
    message: str
    function: str           # C function where it is reported
    resource: str           # access path, e.g. "self.mmio"
    hook: str               # lifecycle phase: realize, unrealize, instance_init, instance_finalize
    device: str             # QOM type name
    related: Tuple[RelatedLocation, ...] = ()

    def sort_key(self):
        return (self.loc.file, self.loc.line, self.loc.col, self.rule, self.resource, self.device)

    @property
    def fingerprint(self) -> str:
        """Stable across unrelated edits: no line numbers, only what the
        finding is about."""
        basis = "\0".join((self.rule, self.loc.file, self.function, self.resource, self.device))
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


@dataclass
class Report:
    """The result of one run: findings, notices and parse statistics."""

    root: str
    version: str
    findings: List[Finding] = field(default_factory=list)
    notices: list = field(default_factory=list)  # model.Notice
    files: int = 0
    functions_found: int = 0
    functions_recovered: int = 0
    rules: list = field(default_factory=list)  # rules.RuleSpec of the rules that ran
    tool_version: str = ""
    lost_reasons: Optional[dict] = None
    # files that yielded no function although they have some (or could not
    # be preprocessed), and files that truly define none
    empty_files: List[str] = field(default_factory=list)
    files_without_functions: int = 0
