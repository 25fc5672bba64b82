"""How lifecheck fits into daily work: suppressions, baselines, lifecheck.toml,
--diff and the extra report outputs, run through the command line on copies
of the examples tree."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, REPO
from lifecheck import diff as diff_filter
from lifecheck import suppress
from lifecheck.config import line_of, path_matches

DEBUG_PORT = "hw/misc/debug-port.c"
SCRATCHPAD = "hw/misc/scratchpad.c"
TICK = "hw/timer/tick-counter.c"
STATUS_DEL = "    memory_region_del_subregion(debug_port_io_space, &s->status);\n"


def lifecheck(*args, cwd, show_all=True):
    """``lifecheck ARGS`` in ``cwd``.  The example devices are mostly board
    devices that are never unplugged, whose findings the default view
    hides: these tests of suppressions, baselines and --diff ask for every
    finding (``--show-all``) unless ``show_all`` is false (the default
    view's own tests: test_view.py)."""
    if show_all and args and args[0] in ("check", "graph"):
        args = (args[0], "--show-all") + tuple(args[1:])
    return subprocess.run([sys.executable, "-m", "lifecheck", *args], cwd=str(cwd),
                          capture_output=True, text=True, timeout=600)


def stub_tree(tmp_path: Path, *devices: str) -> Path:
    """A QEMU-shaped tree holding the examples' headers and ``devices``
    (all example devices when none are named)."""
    root = tmp_path / "tree"
    if not devices:
        shutil.copytree(EXAMPLES, root)
        return root
    root.mkdir()
    shutil.copy(EXAMPLES / "VERSION", root / "VERSION")
    shutil.copytree(EXAMPLES / "include", root / "include")
    for dev in devices:
        (root / dev).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(EXAMPLES / dev, root / dev)
    return root


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1))


def findings(proc) -> set:
    assert proc.returncode in (0, 1), proc.stderr
    return {(f["file"], f["line"], f["rule"]) for f in json.loads(proc.stdout)["findings"]}


def check_json(root: Path, *args):
    return lifecheck("check", ".", "-j", "1", "--format", "json", *args, cwd=root)


def git(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-c", "user.name=lifecheck tests", "-c", "user.email=tests@invalid",
                           "-c", "commit.gpgsign=false", *args],
                          cwd=str(root), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def git_tree(tmp_path: Path, *devices: str) -> Path:
    root = stub_tree(tmp_path, *devices)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "start")
    return root


# -- suppressions ---------------------------------------------------------------

def test_suppression_on_the_line(tmp_path):
    root = stub_tree(tmp_path, DEBUG_PORT)
    assert findings(check_json(root)) == {(DEBUG_PORT, 112, "subregion-not-deleted")}
    edit(root, DEBUG_PORT, "/* lifecheck: expect[subregion-not-deleted] */",
         "/* lifecheck: ignore[subregion-not-deleted] the board never removes debug ports */")
    proc = check_json(root)
    assert findings(proc) == set()
    assert json.loads(proc.stdout)["stats"]["suppressed"] == 1


def test_suppression_on_the_line_above(tmp_path):
    root = stub_tree(tmp_path, DEBUG_PORT)
    edit(root, DEBUG_PORT, "    memory_region_add_subregion(debug_port_io_space, s->port, &s->data);",
         "    /* lifecheck: ignore[subregion-not-deleted] the board owns the port\n"
         "     * and never unplugs it */\n"
         "    memory_region_add_subregion(debug_port_io_space, s->port, &s->data);")
    assert findings(check_json(root)) == set()


def test_suppression_at_the_function_covers_its_body(tmp_path):
    root = stub_tree(tmp_path, SCRATCHPAD)
    assert findings(check_json(root)) == {(SCRATCHPAD, 120, "unparent-in-finalize"),
                                          (SCRATCHPAD, 121, "unparent-in-finalize")}
    edit(root, SCRATCHPAD, "static void scratchpad_finalize(Object *obj)\n",
         "/*\n * Kept until the 7.2 backport is dropped.\n"
         " * lifecheck: ignore[unparent-in-finalize] stable branch\n */\n"
         "static void scratchpad_finalize(Object *obj)\n")
    proc = check_json(root)
    assert findings(proc) == set()
    assert json.loads(proc.stdout)["stats"]["suppressed"] == 2


def test_suppression_on_the_opening_brace_covers_the_function(tmp_path):
    root = stub_tree(tmp_path, SCRATCHPAD)
    edit(root, SCRATCHPAD, "static void scratchpad_finalize(Object *obj)\n{\n",
         "static void scratchpad_finalize(Object *obj)\n{ /* lifecheck: ignore[unparent-in-finalize] stable */\n")
    assert findings(check_json(root)) == set()


def test_unused_suppression_is_a_note(tmp_path):
    root = stub_tree(tmp_path, DEBUG_PORT)
    # on a line with no finding, and a wrong rule on the line that has one
    edit(root, DEBUG_PORT, "    debug_port_map_status(s, debug_port_io_space);",
         "    debug_port_map_status(s, debug_port_io_space); /* lifecheck: ignore[subregion-not-deleted] old */")
    edit(root, DEBUG_PORT, "/* lifecheck: expect[subregion-not-deleted] */",
         "/* lifecheck: ignore[freed-in-unrealize, no-such-rule] wrong rule */")
    proc = check_json(root)
    doc = json.loads(proc.stdout)
    got = {(f["line"], f["rule"], f["severity"], f["resource"]) for f in doc["findings"]}
    assert got == {
        (112, "subregion-not-deleted", "warning", "self.data"),     # still reported
        (112, "unused-suppression", "note", "freed-in-unrealize"),
        (112, "unused-suppression", "note", "no-such-rule"),
        (113, "unused-suppression", "note", "subregion-not-deleted"),
    }
    messages = {f["resource"]: f["message"] for f in doc["findings"] if f["rule"] == "unused-suppression"}
    assert "names no rule 'no-such-rule'" in messages["no-such-rule"]
    assert "silences no finding on line 113" in messages["subregion-not-deleted"]
    assert len({f["fingerprint"] for f in doc["findings"]}) == 4
    assert proc.returncode == 0  # notes do not fail by default ...
    assert lifecheck("check", ".", "-j", "1", "--fail-on", "note", cwd=root).returncode == 1
    # ... and rules that did not run say nothing about their suppressions
    only = check_json(root, "--select", "del-subregion-in-finalize")
    assert findings(only) == {(DEBUG_PORT, 112, "unused-suppression")}
    text = lifecheck("check", ".", "-j", "1", cwd=root).stdout
    assert f"{DEBUG_PORT}:113:52: note: lifecheck: ignore for [subregion-not-deleted]" in text


def test_unused_suppression_has_sarif_rule_and_explain(tmp_path):
    root = stub_tree(tmp_path, DEBUG_PORT)
    edit(root, DEBUG_PORT, "    debug_port_map_status(s, debug_port_io_space);",
         "    debug_port_map_status(s, debug_port_io_space); /* lifecheck: ignore[subregion-not-deleted] */")
    doc = json.loads(lifecheck("check", ".", "-j", "1", "--format", "sarif", cwd=root).stdout)
    run = doc["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert suppress.UNUSED in rules
    unused = [r for r in run["results"] if r["ruleId"] == suppress.UNUSED]
    assert [(r["level"], rules[r["ruleIndex"]]) for r in unused] == [("note", suppress.UNUSED)]
    proc = lifecheck("explain", suppress.UNUSED, cwd=root)
    assert proc.returncode == 0 and "Bad example" in proc.stdout
    assert suppress.UNUSED in lifecheck("explain", cwd=root).stdout


def test_directive_parsing():
    text = ("int a; /* lifecheck: ignore[x-y] why */\n"
            "// lifecheck: ignore[p, q]\n"
            "foo();\n"
            "/* lifecheck: ignore[z] dangling */\n"
            "\n"
            "char *s = \"lifecheck: ignore[not-a-comment]\";\n")
    got = [(d.line, d.slugs, d.reason, d.target) for d in suppress.parse_directives("f.c", text)]
    assert got == [(1, ("x-y",), "why", 1), (2, ("p", "q"), "", 3), (4, ("z",), "dangling", 0)]


# -- baseline -------------------------------------------------------------------

def test_baseline_adoption(tmp_path):
    root = stub_tree(tmp_path)
    old = len(findings(check_json(root)))
    assert old >= 15  # the examples' findings
    proc = lifecheck("baseline", "lifecheck-baseline.json", ".", "-j", "1", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {old} findings to lifecheck-baseline.json" in proc.stderr
    doc = json.loads((root / "lifecheck-baseline.json").read_text())
    assert doc["format"] == "lifecheck-baseline" and len(doc["findings"]) == old
    assert len({e["fingerprint"] for e in doc["findings"]}) == old

    proc = lifecheck("check", ".", "-j", "1", "--baseline", "lifecheck-baseline.json", cwd=root)
    assert (proc.returncode, proc.stdout) == (0, "")
    assert f"{old} known finding(s) hidden" in proc.stderr

    # unrelated lines move: nothing reopens
    for rel in (DEBUG_PORT, TICK, SCRATCHPAD):
        edit(root, rel, "#include", "/* a new\n * copyright\n * block\n */\n#include")
    proc = lifecheck("check", ".", "-j", "1", "--baseline", "lifecheck-baseline.json", cwd=root)
    assert (proc.returncode, proc.stdout, proc.stderr.count("stale")) == (0, "", 0)

    # a new bug is reported; a fixed one leaves a stale entry
    edit(root, DEBUG_PORT, STATUS_DEL, "")
    edit(root, SCRATCHPAD, "    object_unparent(OBJECT(&s->ram)); /* lifecheck: expect[unparent-in-finalize] */\n", "")
    proc = check_json(root, "--baseline", "lifecheck-baseline.json", "--fail-on", "warning")
    assert proc.returncode == 1
    assert findings(proc) == {(DEBUG_PORT, 103, "subregion-not-deleted")}
    base = json.loads(proc.stdout)["baseline"]
    assert base["matched"] == old - 1
    assert [(e["file"], e["rule"], e["resource"], e["function"]) for e in base["stale"]] == [
        (SCRATCHPAD, "unparent-in-finalize", "self.ram", "scratchpad_finalize")]
    proc = lifecheck("check", ".", "-j", "1", "-v", "--baseline", "lifecheck-baseline.json", cwd=root)
    assert "1 entry is stale" in proc.stderr
    assert f"stale: {SCRATCHPAD}: [unparent-in-finalize] self.ram in scratchpad_finalize" in proc.stderr

    # checking part of the tree: entries about other files are not stale
    part = lifecheck("check", DEBUG_PORT, "-j", "1", "--format", "json",
                     "--baseline", "lifecheck-baseline.json", cwd=root)
    assert json.loads(part.stdout)["baseline"]["stale"] == []


def test_bad_baseline_is_a_usage_error(tmp_path):
    root = stub_tree(tmp_path, DEBUG_PORT)
    (root / "b.json").write_text("{\"findings\": []}")
    proc = lifecheck("check", ".", "--baseline", "b.json", cwd=root)
    assert proc.returncode == 2 and "b.json: not a lifecheck baseline" in proc.stderr
    proc = lifecheck("check", ".", "--baseline", "missing.json", cwd=root)
    assert proc.returncode == 2 and "missing.json: cannot read the baseline" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- lifecheck.toml ----------------------------------------------------------------

def test_config_select_severity_fail_on_and_paths(tmp_path):
    root = stub_tree(tmp_path, DEBUG_PORT, SCRATCHPAD, TICK)
    everything = findings(check_json(root))
    assert everything == {(DEBUG_PORT, 112, "subregion-not-deleted"), (TICK, 148, "subregion-not-deleted"),
                          (TICK, 158, "del-subregion-in-finalize"),
                          (SCRATCHPAD, 120, "unparent-in-finalize"), (SCRATCHPAD, 121, "unparent-in-finalize")}
    (root / "lifecheck.toml").write_text(
        '# lifecheck settings\n'
        'ignore = ["del-subregion-in-finalize"]\n'
        'fail-on = "warning"\n'
        '\n'
        '[severity]\n'
        'unparent-in-finalize = "note"\n'
        '\n'
        '[per-path-ignores]\n'
        '"hw/timer/" = ["*"]\n')
    proc = check_json(root)
    assert findings(proc) == {(DEBUG_PORT, 112, "subregion-not-deleted"),
                              (SCRATCHPAD, 120, "unparent-in-finalize"), (SCRATCHPAD, 121, "unparent-in-finalize")}
    severities = {f["rule"]: f["severity"] for f in json.loads(proc.stdout)["findings"]}
    assert severities == {"subregion-not-deleted": "warning", "unparent-in-finalize": "note"}
    assert proc.returncode == 1  # fail-on = "warning" from the file
    assert lifecheck("check", ".", "-j", "1", "--fail-on", "error", cwd=root).returncode == 0  # flag wins
    # --select on the command line replaces the file's selection
    assert findings(check_json(root, "--select", "unparent-in-finalize")) == {
        (SCRATCHPAD, 120, "unparent-in-finalize"), (SCRATCHPAD, 121, "unparent-in-finalize")}


def test_config_baseline_and_dotfile(tmp_path):
    root = stub_tree(tmp_path, DEBUG_PORT)
    assert lifecheck("baseline", "ci/known.json", ".", "-j", "1", cwd=root).returncode == 0
    (root / ".lifecheck.toml").write_text('baseline = "ci/known.json"\n')
    proc = check_json(root)
    assert findings(proc) == set() and json.loads(proc.stdout)["baseline"]["matched"] == 1
    assert findings(check_json(root, "--no-baseline")) == {(DEBUG_PORT, 112, "subregion-not-deleted")}
    (root / "lifecheck.toml").write_text("")
    proc = lifecheck("check", ".", cwd=root)
    assert proc.returncode == 2 and "both exist; keep one" in proc.stderr


@pytest.mark.parametrize("content, message", [
    ('select = ["subregion-not-deleted",\n', "lifecheck.toml:1: not valid TOML"),
    ('# rules\nselct = ["subregion-not-deleted"]\n', "lifecheck.toml:2: key 'selct': unknown key"),
    ('select = ["subregion-not-deleted", "no-such-rule"]\n',
     "lifecheck.toml:1: key 'select': unknown rule 'no-such-rule'"),
    ('fail-on = "warning"\n\n[severity]\nsubregion-not-deleted = "loud"\n',
     "lifecheck.toml:4: key 'severity.subregion-not-deleted': must be one of error, warning, note"),
    ('[severity]\nnot-a-rule = "error"\n', "lifecheck.toml:2: key 'severity.not-a-rule': unknown rule"),
    ('fail-on = "fatal"\n', "lifecheck.toml:1: key 'fail-on': must be one of"),
    ('\n[per-path-ignores]\n"hw/xen/" = "all"\n',
     "lifecheck.toml:3: key 'per-path-ignores.hw/xen/': must be a list of strings"),
    ('rules-dirs = ["scripts/lifecheck"]\n',
     "lifecheck.toml:1: key 'rules-dirs': rules folder 'scripts/lifecheck' not found"),
    ('baseline = 3\n', "lifecheck.toml:1: key 'baseline': must be a file name"),
])
def test_bad_config_names_file_line_and_key(tmp_path, content, message):
    root = stub_tree(tmp_path, DEBUG_PORT)
    (root / "lifecheck.toml").write_text(content)
    proc = lifecheck("check", ".", cwd=root)
    assert proc.returncode == 2, proc.stdout
    assert f"lifecheck: error: {root / message}" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


BOARD_API = """
[[family]]
name = "board-irq"
header = "include/hw/misc/board-irq.h"
acquire = [ { function = "board_irq_connect", resource = 0 } ]
release = [ { function = "board_irq_disconnect", resource = 0 } ]
"""

BOARD_RULE = '''
slug = "board-irq-not-disconnected"
kind = "missing-release"
summary = "A board IRQ line connected in realize is not disconnected on unrealize."

[config]
families = ["board-irq"]
acquire_phases = ["realize"]
release_phases = ["unrealize"]
default_severity = "error"
message = "{resource} is connected with board_irq_connect() in {phase} but never disconnected on unrealize"

[doc]
what = "A board IRQ line connected in realize and not disconnected in unrealize."
why = "The board keeps calling into an unplugged device."
bad = "board_irq_connect(&s->irq, 5);"
good = "board_irq_disconnect(&s->irq);"
references = ["our board's docs"]
'''


def test_config_rules_dir_adds_an_api_pair_without_python(tmp_path):
    root = stub_tree(tmp_path, DEBUG_PORT)
    rules = root / "scripts" / "lifecheck"
    (rules / "api").mkdir(parents=True)
    (rules / "api" / "board.toml").write_text(BOARD_API)
    (rules / "board-irq-not-disconnected.toml").write_text(BOARD_RULE)
    edit(root, DEBUG_PORT, "    unsigned len;\n", "    unsigned len;\n    int irq;\n")
    edit(root, DEBUG_PORT, "static MemoryRegion *debug_port_io_space;\n",
         "static MemoryRegion *debug_port_io_space;\n"
         "void board_irq_connect(int *line, int n);\nvoid board_irq_disconnect(int *line);\n")
    edit(root, DEBUG_PORT, "    debug_port_map_status(s, debug_port_io_space);\n",
         "    debug_port_map_status(s, debug_port_io_space);\n    board_irq_connect(&s->irq, 5);\n")
    before = findings(check_json(root))
    assert before == {(DEBUG_PORT, 115, "subregion-not-deleted")}
    (root / "lifecheck.toml").write_text('rules-dirs = ["scripts/lifecheck"]\n')
    assert findings(check_json(root)) == before | {(DEBUG_PORT, 117, "board-irq-not-disconnected")}
    edit(root, DEBUG_PORT, STATUS_DEL, STATUS_DEL + "    board_irq_disconnect(&s->irq);\n")
    assert findings(check_json(root)) == before


def test_readme_config_example_is_valid(tmp_path):
    import re
    readme = (REPO / "README.md").read_text()
    # the lifecheck.toml example (the other TOML block is an API family)
    (example,) = [b for b in re.findall(r"^```toml\n(.*?)^```", readme, flags=re.S | re.M)
                  if "[[family]]" not in b]
    root = stub_tree(tmp_path, DEBUG_PORT, SCRATCHPAD)
    (root / "scripts" / "lifecheck").mkdir(parents=True)
    (root / "lifecheck.toml").write_text(example)
    assert lifecheck("baseline", "lifecheck-baseline.json", ".", "-j", "1", cwd=root).returncode == 0
    proc = lifecheck("check", ".", "-j", "1", cwd=root)
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr


def test_config_helpers():
    assert path_matches("hw/xen/xen-pt.c", "hw/xen/")
    assert path_matches("hw/xen/xen-pt.c", "hw/xen")
    assert path_matches("hw/xen/xen-pt.c", "hw/*/xen-*.c")
    assert not path_matches("hw/xenfoo/a.c", "hw/xen")
    text = 'a = 1\n[severity]\n"x-y" = "error"\n[per-path-ignores]\n"hw/" = []\n'
    assert (line_of(text, "", "a"), line_of(text, "severity", "x-y"),
            line_of(text, "per-path-ignores", "hw/"), line_of(text, "", "missing")) == (1, 3, 5, 0)


# -- --diff ------------------------------------------------------------------------

def test_diff_reports_only_changed_code(tmp_path):
    root = git_tree(tmp_path, DEBUG_PORT, SCRATCHPAD, TICK)
    assert findings(check_json(root, "--diff", "HEAD")) == set()
    # a comment outside any function changes nothing
    edit(root, TICK, " * SPDX-License-Identifier", " * (reworded)\n * SPDX-License-Identifier")
    assert findings(check_json(root, "--diff", "HEAD")) == set()
    # dropping a release from unrealize reports what unrealize now misses
    edit(root, DEBUG_PORT, STATUS_DEL, "")
    assert findings(check_json(root, "--diff", "HEAD")) == {
        (DEBUG_PORT, 99, "subregion-not-deleted"), (DEBUG_PORT, 112, "subregion-not-deleted")}
    # committed changes count too, and so does a change inside a function
    git(root, "commit", "-q", "-a", "-m", "drop a release")
    edit(root, TICK, "    timer_free(s->timer);\n", "    timer_free(s->timer); /* reworded */\n")
    assert findings(check_json(root, "--diff", "HEAD~1")) == {
        (DEBUG_PORT, 99, "subregion-not-deleted"), (DEBUG_PORT, 112, "subregion-not-deleted"),
        (TICK, 159, "del-subregion-in-finalize")}


def test_diff_counts_untracked_files_as_changed(tmp_path):
    root = git_tree(tmp_path, DEBUG_PORT)
    shutil.copytree(EXAMPLES / "hw" / "timer", root / "hw" / "timer")
    assert findings(check_json(root, "--diff", "HEAD")) == {
        (TICK, 148, "subregion-not-deleted"), (TICK, 158, "del-subregion-in-finalize")}


def test_diff_errors(tmp_path):
    root = stub_tree(tmp_path, DEBUG_PORT)
    proc = lifecheck("check", ".", "--diff", "HEAD", cwd=root)
    assert proc.returncode == 2 and "is not inside a git repository" in proc.stderr
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "start")
    proc = lifecheck("check", ".", "--diff", "no-such-branch", cwd=root)
    assert proc.returncode == 2 and "unknown revision 'no-such-branch'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_parse_diff():
    text = ("diff --git a/hw/a.c b/hw/a.c\n--- a/hw/a.c\n+++ b/hw/a.c\n"
            "@@ -10,0 +11,2 @@\n+x\n+y\n@@ -20 +22 @@\n-a\n+b\n@@ -30,3 +31,0 @@\n-c\n-d\n-e\n"
            "diff --git a/hw/gone.c b/hw/gone.c\n--- a/hw/gone.c\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-a\n-b\n")
    assert diff_filter.parse_diff(text) == {"hw/a.c": {11, 12, 22, 31, 32}}


# -- several outputs from one run --------------------------------------------------

def test_report_option_writes_more_formats_from_one_run(tmp_path):
    root = stub_tree(tmp_path, DEBUG_PORT, TICK)
    proc = lifecheck("check", ".", "-j", "1", "--report", "gitlab:cq.json", "--report", "sarif:out/l.sarif",
                     cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 3
    for fmt, name in (("gitlab", "cq.json"), ("sarif", "out/l.sarif")):
        alone = lifecheck("check", ".", "-j", "1", "--format", fmt, cwd=root).stdout
        assert (root / name).read_text() == alone
    proc = lifecheck("check", ".", "--report", "pdf:x.pdf", cwd=root)
    assert proc.returncode == 2 and "expected FORMAT:FILE" in proc.stderr


def test_repo_hook_file_is_what_the_docs_say():
    hooks = (REPO / ".pre-commit-hooks.yaml").read_text()
    assert "id: lifecheck\n" in hooks and "entry: lifecheck check\n" in hooks
    assert "entry: lifecheck check --diff HEAD\n" in hooks
