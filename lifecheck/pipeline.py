"""The findings pipeline: everything between "the rules produced findings"
and "a reporter prints them", in one place and one order.

Every command that shows findings (``check``, ``baseline``, ``graph``, and
``fix`` to come) builds one ``Pipeline`` from its command-line options and
the tree's ``lifecheck.toml``, asks the analysis to run ``selected`` rules,
and puts the report through ``Pipeline.apply``.  So a picture can never
show a finding that ``check`` hides, and a baseline records exactly what
``check`` would report.

This module decides what is shown; it does not analyse (no frontend, no
analysis), render (no reporters) or parse arguments (no cli).  The filters
themselves live beside the data they read: ``suppress`` (source comments),
``config`` (lifecheck.toml), ``diff`` (git), ``baseline`` (the file).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, Mapping, Optional, Tuple

from . import activity
from . import baseline as baseline_file
from . import diff as diff_filter
from . import suppress
from .config import ALL_RULES, Config, path_matches
from .findings import Finding, Report, severity_rank


class UsageError(Exception):
    """A request the user has to change (an unknown rule, a bad option);
    exit status 2 with the message, never a traceback."""


@dataclass(frozen=True)
class FindingsRequest:
    """What the command line says about findings.  Empty values leave the
    decision to the configuration file (flags win over the file)."""

    select: Tuple[str, ...] = ()          # --select: run only these (replaces the file's select)
    ignore: Tuple[str, ...] = ()          # --ignore: added to the file's ignore
    baseline: Optional[Path] = None       # --baseline FILE (else the file's baseline)
    no_baseline: bool = False             # --no-baseline
    diff: Optional[str] = None            # --diff REV
    fail_on: Optional[str] = None         # --fail-on (else the file's, else error)
    show_all: Optional[bool] = None       # --show-all (else the file's show-all, else false)


# The flag that shows what the default view hides, as summaries name it.
SHOW_ALL_FLAG = "--show-all"


@dataclass(frozen=True)
class Pipeline:
    """What is done to findings between the rules and a reporter, resolved
    from the request and the configuration; see ``apply`` for the order.
    Built once per command (``Pipeline.build``); the default instance only
    applies in-source suppressions and the default view."""

    rules: FrozenSet[str] = frozenset()            # every rule slug the catalog knows
    selected: Optional[FrozenSet[str]] = None      # the rules to run; None: every rule
    unused_suppressions: bool = True               # report unused-suppression notes
    severity: Mapping[str, str] = field(default_factory=dict)                  # rule -> severity
    per_path_ignores: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()              # (pattern, rules)
    changes: Optional[diff_filter.Changes] = None  # --diff: what changed; None: keep everything
    baseline: Optional[Dict[str, dict]] = None     # known findings by fingerprint; None: none
    baseline_label: str = ""                       # the baseline file as the user would type it
    fail_on: str = "error"                         # lowest severity that fails the run
    show_all: bool = False                         # keep findings that hold only in principle

    @classmethod
    def build(cls, request: FindingsRequest, config: Config, rules: Iterable[str], root: Path,
              use_baseline: bool = True) -> "Pipeline":
        """The pipeline for ``request`` and ``config`` over the catalog's
        ``rules`` in the tree at ``root``.  Raises ``UsageError`` for a
        rule the catalog does not know (``ConfigError`` when the file names
        it), ``DiffError`` when git cannot say what changed and
        ``BaselineError`` when the baseline cannot be read: all before
        anything is analysed.  ``use_baseline`` false: no baseline, whatever
        the request and the file say."""
        rules = frozenset(rules)
        known = rules | {suppress.UNUSED}
        config.check_rules(known)
        unknown = (set(request.select) | set(request.ignore)) - known
        if unknown:
            raise UsageError(f"unknown rule(s): {', '.join(sorted(unknown))}")
        select = set(request.select) if request.select else (
            set(config.select) if config.select is not None else None)
        ignore = set(request.ignore) | set(config.ignore)
        if ignore:
            select = (select if select is not None else set(rules)) - ignore
        changes = diff_filter.changed_lines(root, request.diff) if request.diff else None
        path = None
        if use_baseline and not request.no_baseline:
            path = request.baseline or config.baseline
        return cls(
            rules=rules,
            selected=frozenset(select) if select is not None else None,
            unused_suppressions=suppress.UNUSED not in ignore,
            severity=dict(config.severity),
            per_path_ignores=tuple(config.per_path_ignores),
            changes=changes,
            baseline=baseline_file.load(path) if path is not None else None,
            baseline_label=shown(path) if path is not None else "",
            fail_on=request.fail_on or config.fail_on or "error",
            show_all=bool(request.show_all if request.show_all is not None else config.show_all),
        )

    @property
    def needs_spans_of_findings(self) -> bool:
        """Whether the analysis must give the function extents of every file
        with findings (``--diff`` reasons about changed functions), not only
        of files with suppression comments."""
        return self.changes is not None

    def apply(self, report: Report) -> Report:
        """The findings of ``report`` as the user asked to see them, in a
        new report (``report`` itself is left as it is).  In this order:

        1. in-source suppressions: first, as they name the rules that
           reported; the ``unused-suppression`` notes they add then go
           through the rest like any finding;
        2. selection: findings of rules not selected are dropped (the
           analysis was asked not to run them, so this step matters for
           ``unused-suppression`` only: it is no analysis);
        3. the configuration's per-path ignores (a rule ignored for a path
           also silences that path's unused suppressions of the rule);
        4. the configuration's severities (not for findings about a mined
           API family: those stay notes until the family is reviewed);
        5. the baseline: only findings it does not know; matched and stale
           entries are recorded in ``report.baseline``.  Before ``--diff``:
           an entry is stale when its finding is gone from the code, not
           when the finding is on code the diff leaves out;
        6. ``--diff``: only findings on changed code;
        7. the default view: findings that hold only in principle
           (``Finding.in_principle``: the event their consequence needs
           cannot happen to the device) are hidden unless ``show_all``.
           Last, so the baseline matches them (a baseline written with
           them hides them under ``--show-all`` too) and what is counted
           as hidden is what would otherwise be shown.

        What steps 1, 3, 5, 6 and 7 hid is counted on the report
        (``suppressed``, ``ignored_by_path``, ``baselined``,
        ``outside_diff``, ``hidden`` by severity)."""
        out = dataclasses.replace(report)
        activity.doing("applying in-source suppressions")
        suppress.apply(out, self.rules | {suppress.UNUSED})
        activity.doing("applying the rule selection and the configuration")
        out.findings = [f for f in out.findings if self._selected(f.rule)]
        if not self.unused_suppressions:
            out.rules = [spec for spec in out.rules if spec.slug != suppress.UNUSED]
        if self.per_path_ignores:
            kept = [f for f in out.findings if not self._ignored_for_path(f)]
            out.ignored_by_path += len(out.findings) - len(kept)
            out.findings = kept
        if self.severity:
            # a finding about a mined, unreviewed API family stays a note
            out.findings = [dataclasses.replace(f, severity=self.severity[f.rule])
                            if f.rule in self.severity and not f.mined else f for f in out.findings]
        if self.baseline is not None:
            activity.doing(f"applying the baseline {self.baseline_label}")
            before = len(out.findings)
            baseline_file.apply(out, self.baseline, self.baseline_label)
            out.baselined += before - len(out.findings)
        if self.changes is not None:
            activity.doing("keeping the findings on changed code (--diff)")
            before = len(out.findings)
            diff_filter.apply(out, self.changes)
            out.outside_diff += before - len(out.findings)
        if not self.show_all:
            hidden: Dict[str, int] = {}
            for f in out.findings:
                if f.in_principle:
                    hidden[f.severity] = hidden.get(f.severity, 0) + 1
            out.findings = [f for f in out.findings if not f.in_principle]
            out.hidden = hidden
        return out

    def fails(self, report: Report) -> bool:
        """Whether ``report`` has a finding at or above ``fail_on`` (exit
        status 1)."""
        threshold = severity_rank(self.fail_on)
        return any(severity_rank(f.severity) >= threshold for f in report.findings)

    def _selected(self, rule: str) -> bool:
        if rule == suppress.UNUSED:
            return self.unused_suppressions
        return self.selected is None or rule in self.selected

    def _ignored_for_path(self, f: Finding) -> bool:
        rules = [r for pattern, rs in self.per_path_ignores if path_matches(f.loc.file, pattern) for r in rs]
        return ALL_RULES in rules or f.rule in rules or (f.rule == suppress.UNUSED and f.resource in rules)


def shown(path: Path) -> str:
    """``path`` as the user would type it: relative to the current folder
    when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)
