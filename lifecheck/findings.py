"""Findings: what the rules report and the reporters print.

A finding names one resource of one device that is released in the wrong
phase, or never.  It carries everything a reporter needs, so reporters never
look back into the model.
"""
from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

from .model import Location

SEVERITIES = ("note", "warning", "error")

# What a finding says is wrong, whatever rule found it: the pictures (and
# fixes) read this instead of rule configuration.
SHAPES = {
    "missing-release": "acquired, and released in none of the phases that must release it",
    "misplaced-release": "released in a phase where it does not belong",
    "error-exit-leak": "acquired on a path that leaves through an error exit without releasing it",
    "second-release": "released again after an earlier release, with nothing cleared in between",
    "use-after-release": "used after its release",
    "stale-suppression": "a suppression comment that silences nothing",
    "wrong-owner": "given an owner whose lifetime does not cover its own",
}



@dataclass(frozen=True)
class Consequence:
    """What goes wrong at run time when a finding is true, and when."""

    title: str          # a noun phrase: "use after free after unplug"
    when: str           # the event that makes it happen, as a clause
    what: str           # what a maintainer reads in ``lifecheck explain``
    severity: str       # when the event can happen to the device
    rank: int           # 0-100, the order of findings (worst first) when it can
    needs: str          # the event: "unplug", "runtime-realize", "instantiation" or "" (none)


# Every finding has one (``Finding.consequence``), derived from the rule's
# kind, the resource's API family traits and the device's hotplug status
# (lifecheck/rules/consequence.py); ``lifecheck explain CONSEQUENCE``
# prints one, docs/consequences.md lists them.
CONSEQUENCES = {
    "use-after-free-after-unplug": Consequence(
        "use after free after unplug", "after the device is hot-unplugged",
        "A registration or callback (reset handler, vmstate or savevm handler, notifier, listener, "
        "timer, bottom half, input or fd handler, ...) keeps a pointer to the device after unplug "
        "frees it: the next reset, migration or event calls into freed memory.",
        "error", 95, "unplug"),
    "use-after-free-after-introspection": Consequence(
        "use after free after introspection", "after the type is introspected",
        "A registration made in instance_init keeps a pointer to the object; QMP "
        "device-list-properties and '-device foo,help' create and finalize every non-abstract "
        "type at run time, so the registration outlives the object it points to.",
        "error", 93, "instantiation"),
    "use-after-free-after-failed-realize": Consequence(
        "use after free after a failed realize", "after realize fails in a device_add",
        "A registration made before realize fails is not undone on the error path; unrealize is "
        "not called for a device that failed to realize, and device_add then frees it: the next "
        "event calls into freed memory.",
        "error", 90, "runtime-realize"),
    "use-after-free-on-teardown": Consequence(
        "use after free on teardown", "when the device is unplugged",
        "A resource is released twice, or used after its release, while the device is torn "
        "down: a double free or a read of freed memory on every unplug.",
        "error", 88, "unplug"),
    "stale-guest-mapping": Consequence(
        "stale guest mapping", "after the device is hot-unplugged",
        "A region stays mapped in a container the device does not own: after unplug the guest "
        "still reaches device code on a dead device, and the mapping's reference keeps the "
        "device from ever being finalized.",
        "error", 85, "unplug"),
    "use-after-free-in-flight": Consequence(
        "use after free under in-flight I/O", "when the device is unplugged under load",
        "Memory that in-flight requests (DMA through address_space_map, bounce buffers, other "
        "threads) may still reach is freed in unrealize instead of instance_finalize.",
        "error", 80, "unplug"),
    "region-outlives-device": Consequence(
        "use after free of a region after unplug", "after the device is hot-unplugged",
        "A memory region lives in the device's memory but is owned by another object (the machine, "
        "for a NULL owner): it is that object's QOM child and the memory API references that "
        "object, not the device, while the region is in use.  After unplug frees the device, the "
        "owner's child property (info qom-tree, qom-list of /machine/unattached) and FlatViews "
        "still being reclaimed by RCU point into freed memory.",
        "error", 78, "unplug"),
    "device-never-finalized": Consequence(
        "the device is never finalized after unplug", "on each hot-unplug",
        "A reference the device's own child holds on it (a strong link back up the composition "
        "tree) keeps its reference count above zero after unplug: instance_finalize never runs, "
        "so every unplug leaks the whole device with what its finalize and qdev's property release "
        "hooks would free, and the back-ends it holds (drives, chardevs, netdevs) stay attached.",
        "error", 70, "unplug"),
    "leak-per-introspection": Consequence(
        "leak per introspection", "each time the type is introspected",
        "instance_init acquires what instance_finalize does not release: QMP "
        "device-list-properties and '-device foo,help' create and finalize every non-abstract "
        "type at run time, pluggable or not, and each time leaks it.",
        "warning", 60, "instantiation"),
    "leak-per-run": Consequence(
        "leak each time it runs", "each time the code runs (a reset, a guest request)",
        "Code the device runs while realized (a reset handler, a register write) acquires the "
        "resource again each time it runs and overwrites what the last run acquired without "
        "releasing it: a leak per reset or request, whether or not the device is ever unplugged.",
        "warning", 55, ""),
    "leak-per-unplug": Consequence(
        "leak per unplug", "on each hot-unplug",
        "Realize acquires what neither unrealize nor instance_finalize releases: every unplug "
        "(and every device_add/device_del cycle) leaks it.",
        "warning", 50, "unplug"),
    "leak-on-failed-realize": Consequence(
        "leak when realize fails", "when realize fails in a device_add",
        "An error exit of realize returns without releasing what it acquired; unrealize is not "
        "called for a device that failed to realize, so a failed device_add leaks it.",
        "warning", 40, "runtime-realize"),
    "api-misuse": Consequence(
        "breaks the API's documented rules", "when the code runs",
        "The call goes against what QEMU's documentation (docs/devel/memory.rst, qom.rst) says "
        "about the object's lifetime; what breaks depends on the object and the QEMU version.",
        "warning", 30, "instantiation"),
    "none": Consequence(
        "no effect on QEMU", "never",
        "Nothing goes wrong in QEMU; the finding is about lifecheck's own input (a suppression "
        "that silences nothing).",
        "note", 5, ""),
}
IN_PRINCIPLE = "in principle"


def consequence_of(f: "Finding") -> Optional[Consequence]:
    return CONSEQUENCES.get(f.consequence)


def finding_order(f: "Finding"):
    """The order of text output: by file, the worst first within a file
    (highest rank, then severity), then by line."""
    return (f.loc.file, -f.rank, -severity_rank(f.severity), f.loc.line, f.loc.col, f.rule, f.resource, f.device)


# Notices are places that could not be analysed (reporters say so before
# the message), except these kinds, whose message says what happened:
# "guess", a function parsed only by taking unknown names as type names;
# "lost-hook-function", a function that could not be parsed and that a
# device's lifecycle hook reaches.
GUESS = "guess"
LOST_HOOK_FUNCTION = "lost-hook-function"
# a QOM type name defined in more than one file (the first is used):
# nothing of either file is left unanalysed
DUPLICATE_TYPE = "duplicate-type"
NOTICE_TITLES = {
    GUESS: "type names guessed",
    LOST_HOOK_FUNCTION: "unparsed function reached from a hook",
}
_COULD_NOT = "could not analyse"


def notice_text(notice) -> str:
    """A notice's message as reporters show it."""
    if notice.kind in NOTICE_TITLES:
        return notice.message
    return f"{_COULD_NOT}: {notice.message}"


def notice_title(notice) -> str:
    """A short title for a notice (GitHub annotations)."""
    return NOTICE_TITLES.get(notice.kind, _COULD_NOT)


def lost_reached_from_hooks(rep: "Report") -> int:
    """How many distinct functions that could not be parsed a lifecycle
    hook reaches (notices of kind "lost-hook-function": one per function
    and phase)."""
    return len({(n.file, n.line) for n in rep.notices if n.kind == LOST_HOOK_FUNCTION})


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
    # Index among findings with the same identity (see number_findings);
    # 0 for the first, which keeps its fingerprint independent of the others.
    occurrence: int = 0
    shape: str = ""         # one of SHAPES
    # missing-release: the phases where a release was expected, first the
    # one that should hold it
    expected_phases: Tuple[str, ...] = ()
    # the resource's API family was mined from a tree (``mined = true`` in
    # rules/api) and not reviewed: a note, whatever rule or configuration
    # would make it
    mined: bool = False
    family: str = ""        # the API family of the resource ("" when none)
    # what goes wrong and when (a key of CONSEQUENCES), how bad it is
    # (0-100, worst first), and whether it holds only in principle: the
    # event it needs cannot happen to this device (it is never unplugged,
    # never realized at run time): hidden unless asked for (--show-all)
    consequence: str = ""
    rank: int = 0
    in_principle: bool = False
    reach: str = ""         # why the event can (or cannot) happen to the device

    def sort_key(self):
        return (self.loc.file, self.loc.line, self.loc.col, self.rule, self.resource, self.device)

    def identity(self) -> Tuple[str, ...]:
        """What the finding is about, without line numbers."""
        return (self.rule, self.loc.file, self.function, self.resource, self.device)

    @property
    def fingerprint(self) -> str:
        """Stable across unrelated edits: no line numbers, only what the
        finding is about, plus its occurrence index when one function has
        several findings of a rule on one resource."""
        parts = self.identity()
        if self.occurrence:
            parts += (str(self.occurrence),)
        basis = "\0".join(parts)
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]


def number_findings(findings: Iterable[Finding]) -> List[Finding]:
    """Give findings that share an identity (same rule, file, function,
    resource and device) occurrence indexes 0, 1, ... in line order, so
    every fingerprint in a report is unique.  Moving unrelated lines keeps
    the order, hence the fingerprints.  Returns the findings sorted."""
    ordered = sorted(findings, key=lambda f: (f.identity(), f.loc.line, f.loc.col, f.message))
    seen: Dict[Tuple[str, ...], int] = {}
    out = []
    for f in ordered:
        n = seen.get(f.identity(), 0)
        seen[f.identity()] = n + 1
        out.append(f if f.occurrence == n else dataclasses.replace(f, occurrence=n))
    out.sort(key=lambda f: f.sort_key())
    return out


@dataclass(frozen=True)
class FunctionSpan:
    """Where a function's definition sits in its file (for suppressions
    and --diff, which reason about lines)."""

    name: str
    file: str
    start: int
    end: int


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
    functions_guessed: int = 0   # of the recovered: only by guessing type names (notices of kind "guess")
    rules: list = field(default_factory=list)  # rules.RuleSpec of the rules that ran
    tool_version: str = ""
    lost_reasons: Optional[dict] = None
    # files that yielded no function although they have some (or could not
    # be preprocessed), and files that truly define none
    empty_files: List[str] = field(default_factory=list)
    files_without_functions: int = 0
    # where the run's time went (``--stats``): step -> (wall seconds, CPU
    # seconds of this process and the processes it waited for); not part
    # of any output format, which must not change from run to run
    timings: Dict[str, Tuple[float, float]] = field(default_factory=dict)
    # What the findings pipeline (suppressions, baseline, --diff) needs:
    analysed_files: List[str] = field(default_factory=list)   # relative to root, sorted
    spans: Dict[str, List[FunctionSpan]] = field(default_factory=dict)  # file -> functions
    # Filled by the findings pipeline (pipeline.py): what each of its steps
    # hid, for reporters and summary lines that show it
    suppressed: int = 0              # by in-source suppressions
    ignored_by_path: int = 0         # by the configuration's per-path-ignores
    outside_diff: int = 0            # by --diff: not on changed code
    baselined: int = 0               # by the baseline
    baseline: Optional[dict] = None  # {"path", "matched", "stale": [entry, ...]}
    # by the default view: findings that hold only in principle, by
    # severity (shown with --show-all or show-all = true); None: every
    # finding was shown
    hidden: Optional[Dict[str, int]] = None
    # Filled by ``check --fixes`` and ``fix``: fingerprint -> the checked
    # fix of the finding or why it has none (fix.edits.FixResult)
    fixes: Dict[str, object] = field(default_factory=dict)


def files_not_fully_analysed(rep: "Report") -> int:
    """Files with a notice that something in them could not be analysed
    (not the guesses, which were analysed)."""
    return len({n.file for n in rep.notices if n.kind not in (GUESS, DUPLICATE_TYPE, "input")})
