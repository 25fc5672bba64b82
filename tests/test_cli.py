"""The command line as a user runs it: exit codes, formats, errors."""
from __future__ import annotations

import json
import re
import subprocess
import sys

from conftest import EXAMPLES, REPO


def lifecheck(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "lifecheck", *args], cwd=cwd or REPO,
                          capture_output=True, text=True, timeout=600)


def test_examples_exit_1_with_compiler_style_lines():
    proc = lifecheck("check", str(EXAMPLES), "-j", "2")
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines, "no findings printed"
    for line in lines:
        path, lineno, col, rest = line.split(":", 3)
        assert path.startswith("hw/") and lineno.isdigit() and col.isdigit()
        assert rest.startswith((" error: ", " warning: ")) and rest.endswith("]")


def test_output_is_identical_across_job_counts(tmp_path):
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"r{jobs}.sarif"
        proc = lifecheck("check", str(EXAMPLES), "--format", "sarif", "-j", jobs, "--output", str(out))
        assert proc.returncode == 1, proc.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_root_found_from_a_subfolder():
    proc = lifecheck("check", ".", "--format", "json", cwd=EXAMPLES / "hw")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert all(f["file"].startswith("hw/") for f in doc["findings"])


def test_not_a_tree_is_a_usage_error(tmp_path):
    proc = lifecheck("check", str(tmp_path))
    assert proc.returncode == 2
    assert "not inside a QEMU tree" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_rule_is_a_usage_error():
    proc = lifecheck("check", str(EXAMPLES), "--select", "no-such-rule")
    assert proc.returncode == 2
    assert "unknown rule" in proc.stderr


def test_explain_every_rule():
    listing = lifecheck("explain")
    assert listing.returncode == 0
    rules, _, consequences = listing.stdout.partition("\n\n")
    slugs = [line.split()[0] for line in rules.splitlines()]
    assert "subregion-not-deleted" in slugs
    for slug in slugs:
        proc = lifecheck("explain", slug)
        assert proc.returncode == 0
        assert "Bad example" in proc.stdout and "Good example" in proc.stdout
        assert "Consequences" in proc.stdout
    # then the consequences, each explained
    from lifecheck.findings import CONSEQUENCES
    listed = [line.split()[0] for line in consequences.splitlines()[1:]]
    assert listed == list(CONSEQUENCES)
    proc = lifecheck("explain", "use-after-free-after-unplug")
    assert proc.returncode == 0
    assert proc.stdout.startswith("use-after-free-after-unplug (consequence)\n")
    assert "What goes wrong" in proc.stdout and "hidden unless --show-all" in proc.stdout.replace("\n", " ")
    every = lifecheck("explain", "consequences")
    assert every.returncode == 0
    assert [line.split()[0] for line in every.stdout.splitlines() if line.endswith("(consequence)")] == listed


def test_broken_c_file_is_a_notice_not_a_crash(tmp_path):
    import shutil
    root = tmp_path / "tree"
    shutil.copytree(EXAMPLES, root)
    (root / "hw" / "misc" / "broken.c").write_bytes(b"\xff\xfe#include <nope\x00\n int x(\n")
    proc = lifecheck("check", str(root), "-v")
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "hw/misc/broken.c" in proc.stdout


def test_examples_sarif_is_valid_and_complete(tmp_path):
    import jsonschema
    schema = json.loads((REPO / "tests" / "schemas" / "sarif-schema-2.1.0.json").read_text())
    out = tmp_path / "r.sarif"
    proc = lifecheck("check", str(EXAMPLES), "--format", "sarif", "--output", str(out))
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(out.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(doc)
    results = doc["runs"][0]["results"]
    assert results
    for r in results:
        loc = r["locations"][0]
        assert loc["physicalLocation"]["artifactLocation"]["uri"].startswith("hw/")
        assert loc["physicalLocation"]["region"]["startLine"] > 0
        assert loc["logicalLocations"][0]["name"]
        assert set(r["properties"]) >= {"resource", "hook", "device"}
        assert r["partialFingerprints"]
        assert r["relatedLocations"]
    rule_ids = {rule["id"] for rule in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in results} <= rule_ids


def test_stats_report_parse_coverage():
    proc = lifecheck("check", str(EXAMPLES), "--stats", "-q")
    assert proc.returncode == 1
    n_files = len(list(EXAMPLES.rglob("*.c")))
    assert f"{n_files} files" in proc.stderr and "(100.00%)" in proc.stderr


def test_stats_say_where_the_time_went():
    # the rule phase apart from the parsing: what docs/performance.md
    # compares between versions (scripts/benchmark.py reads this line)
    proc = lifecheck("check", str(EXAMPLES), "--stats", "-q", "--no-cache")
    line = next(x for x in proc.stderr.splitlines() if x.startswith("lifecheck: time: "))
    steps = re.findall(r"(\w+) ([\d.]+) s \(CPU ([\d.]+) s\)", line)
    assert [name for name, _, _ in steps] == ["files", "decoding", "linking", "rules"]
    assert all(float(wall) >= 0 and float(cpu) >= 0 for _, wall, cpu in steps)
    assert float(steps[0][1]) > 0  # the files were analysed


def test_stats_name_files_that_yield_nothing(tmp_path):
    import shutil as _shutil
    root = tmp_path / "tree"
    _shutil.copytree(EXAMPLES / "include", root / "include")
    (root / "VERSION").write_text("10.2.2\n")
    (root / "hw").mkdir()
    (root / "hw" / "broken.c").write_text('#include "no/such/dir/../x.h"\nint f(void) { return 0; }\n')
    (root / "hw" / "lost.c").write_text("int g(void) { return 1 +; }\n")
    (root / "hw" / "none.c").write_text("int x = 1;\n")
    (root / "hw" / "ok.c").write_text("int h(void) { return 0; }\n")
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "lifecheck", "check", "--stats", "--root", str(root),
                           str(root / "hw"), "--format", "json", "-o", str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "yields nothing: hw/broken.c" in proc.stderr
    assert "yields nothing: hw/lost.c" in proc.stderr
    assert "2 files yielding nothing, 1 files without functions" in proc.stderr
    stats = json.loads(out.read_text())["stats"]
    assert stats["files_yielding_nothing"] == ["hw/broken.c", "hw/lost.c"]
    assert stats["files_without_functions"] == 1
    assert stats["lost_reasons"] == {"Invalid expression": 1, "preprocessing failed": 1}


# -- internal errors: exit status 2, naming what was being done ------------------

def _one_device(tmp_path, monkeypatch):
    from test_workflow import stub_tree
    root = stub_tree(tmp_path, "hw/usb/dev-dbgwin.c")
    monkeypatch.chdir(root)
    monkeypatch.setenv("LIFECHECK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LIFECHECK_DEBUG", raising=False)
    return root


def _boom(*args, **kwargs):
    raise RuntimeError("made up\nfor the test")


def test_exception_in_a_rule_is_exit_2_naming_rule_device_and_file(tmp_path, monkeypatch, capsys):
    from lifecheck import cli
    from lifecheck.rules import engine
    _one_device(tmp_path, monkeypatch)
    import dataclasses
    kind = engine.KINDS["wrong-phase-release"]
    monkeypatch.setitem(engine.KINDS, "wrong-phase-release", dataclasses.replace(kind, check_device=_boom))
    status = cli.main(["check", ".", "-j", "1", "--select", "del-subregion-in-finalize"])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err == ("lifecheck: internal error: RuntimeError: made up for the test (while running rule "
                   "del-subregion-in-finalize on device type usb-dbgwin, hw/usb/dev-dbgwin.c)\n")


def test_exception_in_a_reporter_is_exit_2_naming_the_report(tmp_path, monkeypatch, capsys):
    from lifecheck import cli
    from lifecheck.report import sarif
    _one_device(tmp_path, monkeypatch)
    monkeypatch.setattr(sarif, "report", _boom)
    status = cli.main(["check", ".", "-j", "1", "--report", "sarif:out/l.sarif"])
    out, err = capsys.readouterr()
    assert status == 2
    assert "hw/usb/dev-dbgwin.c:129:5: error:" in out   # the text report came first
    assert err == ("lifecheck: internal error: RuntimeError: made up for the test "
                   "(while writing the sarif report to out/l.sarif)\n")


def test_exception_while_decoding_the_cache_names_the_file(tmp_path, monkeypatch, capsys):
    from lifecheck import cli
    from lifecheck.cache import CachedFile
    _one_device(tmp_path, monkeypatch)
    assert cli.main(["check", ".", "-j", "1"]) == 1   # fills the cache
    capsys.readouterr()
    # the run's findings come from the cache; the file's unit is decoded for
    # its lifecheck: comments
    monkeypatch.setattr(CachedFile, "unit", _boom)
    status = cli.main(["check", ".", "-j", "1"])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err == ("lifecheck: internal error: RuntimeError: made up for the test "
                   "(while decoding the cached analysis, hw/usb/dev-dbgwin.c)\n")


def test_debug_variable_adds_the_traceback(tmp_path, monkeypatch, capsys):
    from lifecheck import cli
    from lifecheck.report import text
    _one_device(tmp_path, monkeypatch)
    monkeypatch.setenv("LIFECHECK_DEBUG", "1")
    monkeypatch.setattr(text, "report", _boom)
    status = cli.main(["check", ".", "-j", "1"])
    _, err = capsys.readouterr()
    assert status == 2
    assert err.startswith("Traceback (most recent call last):") and "in _boom" in err
    assert err.endswith("lifecheck: internal error: RuntimeError: made up for the test "
                        "(while writing the text report)\n")


def test_unwritable_output_is_a_usage_error(tmp_path):
    (tmp_path / "file").write_text("")
    proc = lifecheck("check", str(EXAMPLES / "hw" / "usb"), "-j", "1", "-o", str(tmp_path / "file" / "r.txt"))
    assert proc.returncode == 2, proc.stderr
    assert f"lifecheck: error: {tmp_path / 'file' / 'r.txt'}: cannot write" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_reader_that_goes_away_is_not_an_internal_error(tmp_path):
    """``lifecheck check ... | head -1``: the closed pipe ends the run
    quietly (exit 1, as after findings), never "internal error"."""
    import os
    import subprocess
    import sys
    from conftest import EXAMPLES
    proc = subprocess.Popen([sys.executable, "-m", "lifecheck", "check", "-j", "1", str(EXAMPLES)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
                            env=dict(os.environ, LIFECHECK_CACHE_DIR=str(tmp_path / "c")))
    proc.stdout.close()   # the reader is gone before the first finding is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 1, err
    assert "internal error" not in err and "Traceback" not in err, err
