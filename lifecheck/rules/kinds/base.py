"""What every rule kind is, and what the kinds share.

A kind is one module of lifecheck/rules/kinds/ that defines ``KIND``: its
name (the ``kind`` of a rule file), its configuration (a dataclass
extending ``spec.RuleConfig``), the shape of its findings, the
placeholders its messages may use, and the functions that find them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, FrozenSet, List, Optional

from ...facts import Facts
from ...facts.api import Op
from ...findings import Finding, SHAPES
from ...graph import DeviceType
from ...model import Location
from ...graph import Program
from ..spec import RuleSpec

DeviceCheck = Callable[[Facts, RuleSpec, DeviceType], List[Finding]]
ProgramCheck = Callable[[Facts, RuleSpec], List[Finding]]


@dataclass(frozen=True)
class Kind:
    name: str                           # the ``kind`` of a rule file
    summary: str                        # one line, for docs
    config: type                        # a dataclass extending RuleConfig
    shape: str                          # one of findings.SHAPES
    placeholders: FrozenSet[str]        # what a message template may name
    check_device: DeviceCheck           # findings of one rule on one device type
    check_program: Optional[ProgramCheck] = None   # and outside any device's lifecycle

    def __post_init__(self) -> None:
        assert self.shape in SHAPES, self.shape


# the highest severity of a finding about a family mined from a tree
# (``mined = true`` in rules/api) that no maintainer has promoted yet
MINED_SEVERITY = "note"


def severity(facts: Facts, spec: RuleSpec, dev: Optional[DeviceType], family: Optional[str] = None) -> str:
    """The rule's severity for ``dev``; a note when the resource's
    ``family`` was mined and not reviewed (a guess from how the tree uses
    two functions, not knowledge)."""
    if mined(facts, family):
        return MINED_SEVERITY
    return spec.config.severity(facts.version, dev is not None and dev.unpluggable)


def mined(facts: Facts, family: Optional[str]) -> bool:
    """``family`` is marked ``mined = true`` (the finding's ``mined``)."""
    return facts.api.is_mined(family)


def hook_loc(program: Program, dev: DeviceType, phase: str) -> Optional[Location]:
    """Where the type's first hook for ``phase`` is defined."""
    refs = dev.hooks.get(phase)
    if not refs:
        return None
    return program.functions[refs[0].function].loc


def families(facts: Facts, chosen, exclude=()) -> FrozenSet[str]:
    """A rule's families: ``chosen`` (None: every family marked
    must_release) less ``exclude``."""
    names = facts.api.must_release() if chosen is None else frozenset(chosen)
    return names - frozenset(exclude)


def family_summary(facts: Facts, family: str) -> str:
    fam = facts.api.families.get(family)
    return fam.summary if fam is not None and fam.summary else family


def release_names(facts: Facts, family: str) -> str:
    """The usual release calls of ``family``, for messages."""
    fam = facts.api.families.get(family)
    if fam is None:
        return "its release"
    names = fam.release_names()
    more = ", ..." if len(names) > 3 else ""
    return ", ".join(n + "()" for n in names[:3]) + more


def describe_op(op: Op) -> str:
    if op.path is not None:
        return str(op.path)
    return f"the result of {op.event.site.callee}()"
