"""The findings pipeline: one place, one order, used by every command.

``check``, ``baseline`` and ``graph`` run on the same copies of the
examples and must agree on which findings there are; the pipeline's steps
are also checked one by one, without a subprocess."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from conftest import REPO
from lifecheck import suppress
from lifecheck.config import Config
from lifecheck.findings import Finding, FunctionSpan, Report
from lifecheck.model import Location
from lifecheck.pipeline import FindingsRequest, Pipeline, UsageError
from test_graph import node_by_label, parse_dot
from test_workflow import DEBUG_PORT, SCRATCHPAD, STATUS_DEL, TICK, edit, findings, git_tree, lifecheck, stub_tree

DBGWIN = "hw/usb/dev-dbgwin.c"
IGNORE_129 = "/* lifecheck: ignore[subregion-not-deleted] the firmware window stays mapped */"
RULES = frozenset({"subregion-not-deleted", "unparent-in-finalize", "del-subregion-in-finalize"})

_WHERE = re.compile(r"^(hw/\S+\.c):(\d+)$")


def drawn(dot_text: str) -> set:
    """(rule, file, line) of every finding a DOT picture marks: the tag
    ``[slug]`` on a call site (or on the node of a finding away from any
    site), with the site's ``file:line``.  The dashed "missing release"
    nodes repeat the tag of their site and are left out."""
    nodes, _, _ = parse_dot(dot_text)
    out = set()
    for attrs in nodes.values():
        lines = attrs.get("label", "").split("\n")
        if lines[0].startswith(("missing release", "not released")):
            continue
        where = [m.groups() for m in map(_WHERE.match, lines) if m]
        for line in lines:
            if line.startswith("[") and line.endswith("]") and where:
                out.add((line[1:-1], where[0][0], int(where[0][1])))
    return out


def graph(root: Path, *args) -> str:
    proc = lifecheck("graph", ".", "-j", "1", *args, cwd=root)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


# -- graph honours lifecheck.toml and the source's suppressions -------------------------

def test_graph_hides_what_config_and_suppressions_hide(tmp_path):
    root = stub_tree(tmp_path, DBGWIN)
    assert drawn(graph(root)) == {("subregion-not-deleted", DBGWIN, 129),
                                  ("del-subregion-in-finalize", DBGWIN, 145),
                                  ("unparent-in-finalize", DBGWIN, 146)}
    edit(root, DBGWIN, "/* lifecheck: expect[subregion-not-deleted] */", IGNORE_129)
    (root / "lifecheck.toml").write_text('[per-path-ignores]\n"hw/usb/" = ["unparent-in-finalize"]\n')
    text = graph(root)
    assert drawn(text) == {("del-subregion-in-finalize", DBGWIN, 145)}
    nodes, edges, _ = parse_dot(text)
    # the mapping is drawn as a plain acquire: not red, no dashed "missing release" node
    mapping = node_by_label(nodes, "memory_region_add_subregion(self.mailbox)")
    assert "penwidth" not in nodes[mapping] and nodes[mapping]["color"] != "#dc2626"
    assert not [n for n, a in nodes.items() if a.get("label", "").startswith("missing release")]
    assert [d for s, d, _ in edges if s == mapping] == []
    # the unparent is drawn as a plain release, not orange
    unparent = node_by_label(nodes, "object_unparent(self.doorbell)")
    assert "penwidth" not in nodes[unparent] and nodes[unparent]["color"] != "#ea580c"
    late = node_by_label(nodes, "memory_region_del_subregion(self.mailbox)")
    assert nodes[late]["color"] == "#ea580c"
    # check agrees
    assert findings(lifecheck("check", ".", "-j", "1", "--format", "json", cwd=root)) == {
        (DBGWIN, 145, "del-subregion-in-finalize")}


def test_graph_takes_the_rule_options_of_check(tmp_path):
    root = stub_tree(tmp_path, DBGWIN)
    (root / "ci").mkdir()
    (root / "ci" / "strict.toml").write_text('ignore = ["del-subregion-in-finalize"]\n')
    assert drawn(graph(root, "--config", "ci/strict.toml")) == {
        ("subregion-not-deleted", DBGWIN, 129), ("unparent-in-finalize", DBGWIN, 146)}
    assert drawn(graph(root, "--ignore", "unparent-in-finalize", "--ignore", "subregion-not-deleted")) == {
        ("del-subregion-in-finalize", DBGWIN, 145)}
    assert drawn(graph(root, "--select", "unparent-in-finalize")) == {("unparent-in-finalize", DBGWIN, 146)}
    proc = lifecheck("graph", ".", "-j", "1", "--select", "no-such-rule", cwd=root)
    assert proc.returncode == 2 and "unknown rule(s): no-such-rule" in proc.stderr
    (root / "lifecheck.toml").write_text('[severity]\nnot-a-rule = "error"\n')
    proc = lifecheck("graph", ".", "-j", "1", cwd=root)
    assert proc.returncode == 2 and "lifecheck.toml:2: key 'severity.not-a-rule': unknown rule" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_graph_hides_baselined_findings_like_check(tmp_path):
    root = stub_tree(tmp_path, DBGWIN)
    assert lifecheck("baseline", "known.json", ".", "-j", "1", cwd=root).returncode == 0
    (root / "lifecheck.toml").write_text('baseline = "known.json"\n')
    assert drawn(graph(root)) == set()
    assert len(drawn(graph(root, "--no-baseline"))) == 3


# -- every command, the same findings -------------------------------------------------

def test_check_baseline_and_graph_agree(tmp_path):
    root = stub_tree(tmp_path)
    edit(root, DBGWIN, "/* lifecheck: expect[subregion-not-deleted] */", IGNORE_129)
    edit(root, DEBUG_PORT, "    debug_port_map_status(s, debug_port_io_space);",
         "    debug_port_map_status(s, debug_port_io_space); /* lifecheck: ignore[subregion-not-deleted] */")
    (root / "lifecheck.toml").write_text(
        'ignore = ["del-subregion-in-finalize"]\n'
        '\n'
        '[severity]\n'
        'unparent-in-finalize = "note"\n'
        '\n'
        '[per-path-ignores]\n'
        '"hw/misc/sensor-hub.c" = ["*"]\n'
        '"hw/misc/pci-*.c" = ["freed-in-unrealize"]\n')
    checked = json.loads(lifecheck("check", ".", "-j", "1", "--format", "json", cwd=root).stdout)
    from_check = {(f["rule"], f["file"], f["line"]) for f in checked["findings"]}
    assert lifecheck("baseline", "b.json", ".", "-j", "1", cwd=root).returncode == 0
    recorded = json.loads((root / "b.json").read_text())["findings"]
    from_baseline = {(e["rule"], e["file"], e["line"]) for e in recorded}
    from_graph = drawn(graph(root))

    assert from_check == from_baseline
    # an unused suppression is a comment's finding, and a leak of a local in
    # some function (deviant-error-exit) no device's: nothing to draw
    of_devices = {(f["rule"], f["file"], f["line"]) for f in checked["findings"] if f["device"]}
    assert from_graph == {f for f in from_check if f[0] != suppress.UNUSED and f in of_devices}
    assert (suppress.UNUSED, DEBUG_PORT, 113) in from_check
    # what the configuration and the comments hid is gone everywhere
    for gone in [("subregion-not-deleted", DBGWIN, 129), ("del-subregion-in-finalize", TICK, 158),
                 ("init-leak", "hw/misc/sensor-hub.c", 109), ("freed-in-unrealize", "hw/misc/pci-ringbuf.c", 199)]:
        assert gone not in from_check
    # what it did not hide is there, with the configured severity
    assert {("unparent-in-finalize", SCRATCHPAD, 120), ("subregion-not-deleted", TICK, 148),
            ("double-release", "hw/misc/pci-beacon.c", 78)} <= from_check
    assert {f["severity"] for f in checked["findings"] if f["rule"] == "unparent-in-finalize"} == {"note"}
    assert checked["stats"]["suppressed"] == 1


def test_diff_with_a_baseline_finds_no_stale_entries(tmp_path):
    """The baseline is applied before --diff: a known finding on code the
    diff leaves out is still known, not a stale entry."""
    root = git_tree(tmp_path, DEBUG_PORT, TICK)
    assert lifecheck("baseline", "known.json", ".", "-j", "1", cwd=root).returncode == 0
    edit(root, DEBUG_PORT, STATUS_DEL, "")
    proc = lifecheck("check", ".", "-j", "1", "--format", "json", "--baseline", "known.json", "--diff", "HEAD",
                     cwd=root)
    assert findings(proc) == {(DEBUG_PORT, 99, "subregion-not-deleted")}
    assert json.loads(proc.stdout)["baseline"] == {"path": "known.json", "matched": 3, "stale": []}
    assert proc.stderr.splitlines() == [
        "lifecheck: baseline known.json: 3 known finding(s) hidden",
        "lifecheck: 1 finding (1 warning) in 2 files analysed; 3 in the baseline"]


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


def test_ignoring_unused_suppression_hides_its_notes(tmp_path, catalog):
    """``unused-suppression`` is a known rule name for --ignore and the
    config's ignore; it is no analysis, so the pipeline drops its notes."""
    report = _report(tmp_path, [], catalog)
    assert [f.rule for f in Pipeline(rules=RULES).apply(report).findings] == [suppress.UNUSED]
    out = Pipeline.build(FindingsRequest(ignore=(suppress.UNUSED,)), Config(), RULES, tmp_path).apply(report)
    assert out.findings == [] and suppress.UNUSED not in {spec.slug for spec in out.rules}
    out = Pipeline.build(FindingsRequest(), Config(ignore=[suppress.UNUSED]), RULES, tmp_path).apply(report)
    assert out.findings == []
    # the suppressions themselves still work
    used = _report(tmp_path / "again", [_finding("subregion-not-deleted", "hw/misc/foo.c", 3)], catalog)
    out = Pipeline.build(FindingsRequest(ignore=(suppress.UNUSED,)), Config(), RULES, tmp_path).apply(used)
    assert (out.findings, out.suppressed) == ([], 1)


def test_ignoring_unused_suppression_on_the_command_line(tmp_path):
    root = stub_tree(tmp_path, DEBUG_PORT)
    edit(root, DEBUG_PORT, "    debug_port_map_status(s, debug_port_io_space);",
         "    debug_port_map_status(s, debug_port_io_space); /* lifecheck: ignore[subregion-not-deleted] */")
    assert findings(lifecheck("check", ".", "-j", "1", "--format", "json", cwd=root)) == {
        (DEBUG_PORT, 112, "subregion-not-deleted"), (DEBUG_PORT, 113, suppress.UNUSED)}
    assert findings(lifecheck("check", ".", "-j", "1", "--format", "json", "--ignore", suppress.UNUSED,
                              cwd=root)) == {(DEBUG_PORT, 112, "subregion-not-deleted")}
