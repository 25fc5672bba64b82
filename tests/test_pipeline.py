"""The findings pipeline: one place, one order, used by every command.

Its steps are checked one by one here, without a subprocess."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import REPO
from lifecheck import suppress
from lifecheck.config import Config
from lifecheck.findings import Finding, FunctionSpan, Report
from lifecheck.model import Location
from lifecheck.pipeline import FindingsRequest, Pipeline, UsageError

RULES = frozenset({"subregion-not-deleted", "unparent-in-finalize", "del-subregion-in-finalize"})


# -- the steps, one by one -------------------------------------------------------------

def _finding(rule: str, file: str, line: int, severity: str = "error", resource: str = "self.io") -> Finding:
    return Finding(rule=rule, severity=severity, loc=Location(file, line, 5), message=f"{rule} here",
                   function="foo_realize", resource=resource, hook="realize", device="foo")


def _report(tmp_path: Path, findings, catalog) -> Report:
    (tmp_path / "hw" / "misc").mkdir(parents=True)
    (tmp_path / "hw" / "misc" / "foo.c").write_text(
        "static void foo_realize(void)\n{\n"
        "    a(); /* lifecheck: ignore[subregion-not-deleted] board device */\n"
        "    b();\n}\n")
    return Report(root=str(tmp_path), version="10.2.2", findings=list(findings),
                  rules=[catalog.rules[slug] for slug in sorted(RULES)],
                  analysed_files=["hw/misc/foo.c", "hw/xen/bar.c"],
                  spans={"hw/misc/foo.c": [FunctionSpan("foo_realize", "hw/misc/foo.c", 1, 5)]})


def test_apply_runs_the_steps_in_order_and_counts_what_each_hid(tmp_path, catalog):
    report = _report(tmp_path, [_finding("subregion-not-deleted", "hw/misc/foo.c", 3),
                                _finding("unparent-in-finalize", "hw/misc/foo.c", 4),
                                _finding("subregion-not-deleted", "hw/xen/bar.c", 7)], catalog)
    pipeline = Pipeline(rules=RULES, severity={"unparent-in-finalize": "note"},
                        per_path_ignores=(("hw/xen/", ("*",)),))
    out = pipeline.apply(report)
    assert [(f.rule, f.loc.file, f.loc.line, f.severity) for f in out.findings] == [
        ("unparent-in-finalize", "hw/misc/foo.c", 4, "note")]
    assert (out.suppressed, out.ignored_by_path, out.outside_diff, out.baselined) == (1, 1, 0, 0)
    assert len(report.findings) == 3 and report.suppressed == 0   # the analysis' report is left alone
    assert not pipeline.fails(out) and Pipeline(fail_on="note").fails(out)

    # --diff, then the baseline, on what is left
    known = {_finding("unparent-in-finalize", "hw/misc/foo.c", 4).fingerprint: {"file": "hw/misc/foo.c"}}
    both = Pipeline(rules=RULES, changes={"hw/misc/foo.c": {4}, "hw/xen/bar.c": {7}}, baseline=known,
                    baseline_label="known.json").apply(report)
    assert [(f.rule, f.loc.line) for f in both.findings] == [("subregion-not-deleted", 7)]
    assert (both.suppressed, both.outside_diff, both.baselined) == (1, 0, 1)
    assert both.baseline == {"path": "known.json", "matched": 1, "stale": []}
    elsewhere = Pipeline(rules=RULES, changes={"hw/misc/other.c": None}).apply(report)
    assert (elsewhere.findings, elsewhere.outside_diff) == ([], 2)


def test_unused_suppressions_go_through_the_later_steps(tmp_path, catalog):
    report = _report(tmp_path, [], catalog)
    out = Pipeline(rules=RULES, severity={suppress.UNUSED: "warning"}).apply(report)
    assert [(f.rule, f.loc.line, f.severity, f.resource) for f in out.findings] == [
        (suppress.UNUSED, 3, "warning", "subregion-not-deleted")]
    # ignoring a rule for a path also silences that path's unused suppressions of it
    quiet = Pipeline(rules=RULES, per_path_ignores=(("hw/misc/", ("subregion-not-deleted",)),)).apply(report)
    assert (quiet.findings, quiet.ignored_by_path) == ([], 1)


def test_build_resolves_flags_over_the_config(tmp_path):
    config = Config(select=["subregion-not-deleted", "unparent-in-finalize"], ignore=["unparent-in-finalize"],
                    fail_on="warning", severity={"subregion-not-deleted": "note"})
    p = Pipeline.build(FindingsRequest(), config, RULES, tmp_path)
    assert (p.selected, p.fail_on, dict(p.severity)) == (
        frozenset({"subregion-not-deleted"}), "warning", {"subregion-not-deleted": "note"})
    p = Pipeline.build(FindingsRequest(select=("del-subregion-in-finalize",), fail_on="error"), config, RULES,
                       tmp_path)
    assert (p.selected, p.fail_on) == (frozenset({"del-subregion-in-finalize"}), "error")
    p = Pipeline.build(FindingsRequest(ignore=("subregion-not-deleted",)), Config(), RULES, tmp_path)
    assert p.selected == RULES - {"subregion-not-deleted"}
    assert Pipeline.build(FindingsRequest(), Config(), RULES, tmp_path).selected is None


def test_build_refuses_unknown_rules_and_bad_baselines(tmp_path):
    with pytest.raises(UsageError, match=r"^unknown rule\(s\): no-such-rule, other$"):
        Pipeline.build(FindingsRequest(select=("other",), ignore=("no-such-rule",)), Config(), RULES, tmp_path)
    from lifecheck.baseline import BaselineError
    with pytest.raises(BaselineError, match="missing.json: cannot read the baseline"):
        Pipeline.build(FindingsRequest(baseline=tmp_path / "missing.json"), Config(), RULES, tmp_path)
    # the baseline command reads none, whatever the config says
    config = Config(baseline=tmp_path / "missing.json")
    assert Pipeline.build(FindingsRequest(), config, RULES, tmp_path, use_baseline=False).baseline is None


# -- layering ---------------------------------------------------------------------------

def _imports(module: str) -> set:
    path = REPO / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = REPO / module.replace(".", "/") / "__init__.py"
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[:len(package.split(".")) - node.level + 1]
            name = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                sub = f"{name}.{alias.name}"
                found = (REPO / (sub.replace(".", "/") + ".py")).exists()
                out.add(sub if found else name)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("lifecheck"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lifecheck"):
            out.add(node.module)
    return out


def test_pipeline_stays_below_the_reporters_and_the_orchestration():
    """model <- graph <- rules <- pipeline <- report <- cli: nothing the
    pipeline imports, directly or not, reaches above it."""
    seen, todo = set(), ["lifecheck.pipeline"]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(m for m in _imports(module) if m.startswith("lifecheck"))
    above = ("lifecheck.frontend", "lifecheck.report", "lifecheck.cli", "lifecheck.analysis",
             "lifecheck.session", "lifecheck.lifegraph", "lifecheck.cache")
    assert sorted(m for m in seen if m.startswith(above)) == []


