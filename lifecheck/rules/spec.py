"""A rule as loaded from its data file: slug, kind, typed configuration,
documentation and the QEMU versions it applies to.

The configuration every kind shares (``RuleConfig``: severity and message)
is defined here; each kind extends it with its own keys
(lifecheck/rules/kinds/).  This module knows nothing about C, the program
or the analyses.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional, Tuple

PHASES = ("instance_init", "realize", "unrealize", "instance_finalize", "runtime")
SEVERITIES = ("note", "warning", "error")


def parse_version(text: str) -> Tuple[int, ...]:
    parts = re.findall(r"\d+", text)
    if not parts:
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(p) for p in parts[:3])


def meta(domain: str = "", doc: str = "") -> dict:
    """Field metadata for a configuration key: ``domain`` names the set its
    values must come from (see schema.DOMAINS), ``doc`` says what it is."""
    return {"domain": domain, "doc": doc}


@dataclass(frozen=True)
class VersionSeverity:
    """A severity for the QEMU versions from ``min`` (inclusive) to ``max``
    (exclusive): advice a version did not yet give is reported milder."""

    severity: str = field(metadata=meta("severity", "the severity in those versions"))
    min: str = field(default="", metadata=meta("version", "first version (inclusive)"))
    max: str = field(default="", metadata=meta("version", "last version (exclusive)"))


@dataclass(frozen=True)
class RuleConfig:
    """Keys every rule has, whatever its kind."""

    default_severity: str = field(default="warning", metadata=meta(
        "severity", "severity of a finding unless raised below"))
    severity_by_unplug: bool = field(default=False, metadata=meta(
        "", "raise to error when the device can be hot-unplugged"))
    version_severity: Tuple[VersionSeverity, ...] = field(default=(), metadata=meta(
        "", "severities for ranges of QEMU versions"))
    message: str = field(default="", metadata=meta(
        "message", "the finding's message, with {placeholders} the kind fills in"))
    consequence: str = field(default="", metadata=meta(
        "consequence", "what goes wrong when a finding is true (see 'lifecheck explain "
        "consequences'); default: derived from the kind, the phase and the API family's traits"))

    def version_cap(self, version: Optional[Tuple[int, ...]]) -> Optional[str]:
        """The severity ``version_severity`` gives ``version`` (the last
        entry that applies), or None."""
        sev = None
        for entry in self.version_severity:
            if version is None:
                continue
            low = parse_version(entry.min) if entry.min else None
            high = parse_version(entry.max) if entry.max else None
            if (low is None or version >= low) and (high is None or version < high):
                sev = entry.severity
        return sev

    def severity(self, version: Optional[Tuple[int, ...]], unpluggable: bool) -> str:
        sev = self.default_severity
        if self.severity_by_unplug and unpluggable:
            sev = "error"
        for entry in self.version_severity:
            if version is None:
                continue
            low = parse_version(entry.min) if entry.min else None
            high = parse_version(entry.max) if entry.max else None
            if (low is None or version >= low) and (high is None or version < high):
                sev = entry.severity
        return sev


@dataclass(frozen=True)
class RuleDoc:
    what: str
    why: str
    bad: str
    good: str
    references: Tuple[str, ...]
    known_problems: str = ""


@dataclass(frozen=True)
class RuleSpec:
    slug: str
    kind: str
    summary: str
    doc: RuleDoc
    config: RuleConfig
    min_version: Optional[Tuple[int, ...]] = None   # inclusive
    max_version: Optional[Tuple[int, ...]] = None   # exclusive
    source: str = ""

    def applies_to(self, version: Optional[Tuple[int, ...]]) -> bool:
        if version is None:
            return True
        if self.min_version is not None and version < self.min_version:
            return False
        if self.max_version is not None and version >= self.max_version:
            return False
        return True

    def versions_text(self) -> str:
        low = ".".join(map(str, self.min_version)) if self.min_version else None
        high = ".".join(map(str, self.max_version)) if self.max_version else None
        if low and high:
            return f"QEMU {low} up to (not including) {high}"
        if low:
            return f"QEMU {low} and later"
        if high:
            return f"QEMU before {high}"
        return "all QEMU versions"

    def message(self, **fields) -> str:
        """The finding's message: the rule's template filled in (placeholders
        were checked on load), else the rule's summary."""
        template = self.config.message or "{resource}: " + self.summary
        try:
            return template.format(**fields)
        except (KeyError, IndexError, ValueError, AttributeError):
            return f"{fields.get('resource')}: {self.summary}"
