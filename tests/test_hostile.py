"""Hostile and broken input: every bad file costs that file (one notice
naming it and the reason), never another file's findings, never the run;
nothing from the tree is run or trusted; the exit status is honest.

The good files of every hostile tree are two example devices; their
findings, computed on a clean tree, must come out unchanged next to the bad
files.  docs/robustness.md lists each guarantee with its test.
"""
from __future__ import annotations

import ctypes
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXAMPLES, REPO
from lifecheck import analysis, cli
from lifecheck import limits as limits_module
from lifecheck.analysis import run
from lifecheck.frontend import parse, preprocess
from lifecheck.frontend.preprocess import PreprocessError, Preprocessor
from lifecheck.frontend.tree import QemuTree
from lifecheck.limits import MB, Limits

GOOD = ("hw/misc/pci-mailbox.c", "hw/timer/tick-counter.c")

needs_fork = pytest.mark.skipif(multiprocessing.get_start_method() != "fork",
                                reason="patches a worker through fork (the Linux default before 3.14)")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LIFECHECK_CACHE_DIR", str(tmp_path / "cache"))


def make_tree(base: Path) -> Path:
    root = base / "tree"
    shutil.copytree(EXAMPLES / "include", root / "include")
    shutil.copy(EXAMPLES / "VERSION", root / "VERSION")
    for rel in GOOD:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(EXAMPLES / rel, root / rel)
    (root / "hw" / "bad").mkdir(parents=True)
    return root


def lifecheck(root: Path, *args, cache: Path, preexec_fn=None, timeout=300):
    """``lifecheck check --show-all ARGS``: every finding, those that hold
    only in principle too (the good files are mostly board devices), so
    the run's output can be compared with the analysis's."""
    env = dict(os.environ, LIFECHECK_CACHE_DIR=str(cache))
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "lifecheck", "check", "--show-all", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout, preexec_fn=preexec_fn)


def findings(doc) -> set:
    return {(f["file"], f["line"], f["rule"]) for f in doc["findings"]}


def notices_by_file(doc) -> dict:
    out = {}
    for n in doc["notices"]:
        out.setdefault(n["file"], []).append(n["message"])
    return out


@pytest.fixture(scope="module")
def good_findings(tmp_path_factory, catalog):
    root = make_tree(tmp_path_factory.mktemp("clean"))
    report, internal = run(QemuTree.open(root), [root / "hw"], catalog)
    assert not internal
    found = {(f.loc.file, f.loc.line, f.rule) for f in report.findings}
    assert {f for f, _, _ in found} == set(GOOD), "the good files must have findings to lose"
    return found


def _drop_dac_capabilities() -> None:
    # root reads any file; without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
    # (dropped from the bounding set before exec) it obeys the mode bits
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


# -- bad files next to good ones -------------------------------------------------

def test_each_bad_file_gets_one_notice_and_the_good_findings_survive(tmp_path, good_findings):
    root = make_tree(tmp_path)
    bad = root / "hw" / "bad"
    (bad / "empty.c").write_bytes(b"")
    (bad / "binary.c").write_bytes(bytes(range(256)) * 40)
    (bad / "cycle.c").write_text('#include "cycle.h"\nint x;\n')
    (bad / "cycle.h").write_text('#include "cycle.h"\n')
    (bad / "abs-include.c").write_text('#include "/etc/passwd"\nint y;\n')
    (bad / "rel-include.c").write_text('#include "' + "../" * 40 + 'etc/passwd"\nint z;\n')
    (bad / "link-header.c").write_text('#include "outside.h"\nint w;\n')
    os.symlink("/etc/passwd", bad / "outside.h")
    os.symlink("/etc/passwd", bad / "link-out.c")
    os.symlink("loop-b.c", bad / "loop-a.c")
    os.symlink("loop-a.c", bad / "loop-b.c")
    os.symlink("gone.c", bad / "dangling.c")
    os.mkfifo(bad / "fifo.c")
    (bad / "folder.c").mkdir()  # a folder is walked, whatever its name
    (bad / os.fsdecode(b"name-\xff.c")).write_text("int v;\n")
    os.symlink(bad, bad / "self-loop")  # a folder link loop: not followed
    (bad / "huge.c").write_bytes(b"int big;\n" * (20 * MB // 9 + 1))  # a 20 MB generated file

    proc = lifecheck(root, "hw", "--format", "json", "-j", "2", cache=tmp_path / "cache")
    assert proc.returncode == 1, proc.stderr  # findings, not an internal failure
    assert "Traceback" not in proc.stderr
    doc = json.loads(proc.stdout)
    assert findings(doc) == good_findings
    notes = notices_by_file(doc)
    expected = {
        "hw/bad/binary.c": "a binary file (it holds NUL bytes); skipped",
        "hw/bad/cycle.c": "#include nested more than 200 deep (an include cycle?)",
        "hw/bad/abs-include.c": "reads /etc/passwd (outside the tree root); not analysed",
        "hw/bad/rel-include.c": "reads /etc/passwd (outside the tree root); not analysed",
        "hw/bad/link-header.c": "reads hw/bad/outside.h (a link to a file outside the tree); not analysed",
        "hw/bad/link-out.c": "a link to a file outside the tree root; skipped",
        "hw/bad/loop-a.c": "cannot read: Too many levels of symbolic links; skipped",
        "hw/bad/loop-b.c": "cannot read: Too many levels of symbolic links; skipped",
        "hw/bad/dangling.c": "cannot read: No such file or directory; skipped",
        "hw/bad/fifo.c": "not a regular file; skipped",
        "hw/bad/name-\\xff.c": "file name is not valid UTF-8; skipped",
        "hw/bad/huge.c": "20 MB is larger than the limit of 8 MB (--max-file-size); skipped",
    }
    for file, reason in expected.items():
        assert len(notes.get(file, [])) == 1, (file, notes.get(file))
        assert reason in notes[file][0], (file, notes[file])
    assert set(notes) == set(expected), "no notice for a good or an empty file"
    # what was read outside the tree never reaches the output
    assert "root:x:0" not in proc.stdout and "/bin/" not in proc.stdout
    # the text and SARIF reporters cope with the same tree (escaped names)
    text = lifecheck(root, "hw", "-v", "-j", "2", cache=tmp_path / "cache")
    assert text.returncode == 1 and "Traceback" not in text.stderr
    assert "hw/bad/name-\\xff.c:0: note: could not analyse: file name is not valid UTF-8" in text.stdout


def test_non_utf8_bytes_in_a_source_keep_its_findings(tmp_path, catalog, good_findings):
    root = make_tree(tmp_path)
    src = root / GOOD[0]
    data = src.read_bytes()
    # Latin-1 and stray bytes on lines of their own: the line numbers stay
    data = data.replace(b"#include \"qemu/osdep.h\"\n",
                        b"#include \"qemu/osdep.h\" /* Ma\xeftre \xff\xfe */\n", 1)
    assert b"\xff" in data
    src.write_bytes(data)
    report, internal = run(QemuTree.open(root), [src], catalog)
    assert not internal
    assert {(f.loc.file, f.loc.line, f.rule) for f in report.findings} == \
        {f for f in good_findings if f[0] == GOOD[0]}


def test_unreadable_file_and_folder(tmp_path, good_findings):
    root = make_tree(tmp_path)
    bad = root / "hw" / "bad"
    (bad / "secret.c").write_text("int s;\n")
    (bad / "secret.c").chmod(0)
    (bad / "closed").mkdir()
    (bad / "closed" / "inner.c").write_text("int i;\n")
    (bad / "closed").chmod(0)
    preexec = None
    if os.geteuid() == 0:
        try:
            probe = subprocess.run(["cat", str(bad / "secret.c")], preexec_fn=_drop_dac_capabilities,
                                   capture_output=True)
        except (OSError, subprocess.SubprocessError) as exc:
            pytest.skip(f"cannot drop root's file capabilities here: {exc}")
        assert probe.returncode != 0
        preexec = _drop_dac_capabilities
    try:
        proc = lifecheck(root, "hw", "--format", "json", "-j", "1", cache=tmp_path / "cache",
                         preexec_fn=preexec)
    finally:
        (bad / "closed").chmod(0o755)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert findings(doc) == good_findings
    notes = notices_by_file(doc)
    assert notes == {"hw/bad/secret.c": ["cannot read: Permission denied; skipped"],
                     "hw/bad/closed": ["cannot read folder: Permission denied; skipped"]}


def test_deep_nesting_costs_the_function_not_the_file(tmp_path, catalog, good_findings):
    root = make_tree(tmp_path)
    src = root / GOOD[0]
    text = src.read_text()
    depth = 400
    deep = ("\nstatic int deep_parens(int a) { return " + "(" * depth + "a" + ")" * depth + "; }\n"
            "static int deep_calls(int a) { return " + "abs(" * depth + "a" + ")" * depth + "; }\n"
            "#define M0(x) (x)\n" + "".join(f"#define M{i}(x) M{i - 1}(M{i - 1}(x))\n" for i in range(1, 10))
            + "static int deep_macro(int a) { return M9(a); }\n"
            "static int chain(int a) { return " + " + ".join(["a"] * 20000) + "; }\n")
    src.write_text(text + deep)
    first = len(text.splitlines()) + 2
    report, internal = run(QemuTree.open(root), [src], catalog)
    assert not internal
    assert {(f.loc.file, f.loc.line, f.rule) for f in report.findings} == \
        {f for f in good_findings if f[0] == GOOD[0]}
    lost = sorted((n.line, n.message) for n in report.notices)
    assert lost == [(first, "function skipped: pycparser: nested too deeply (Python recursion limit)"),
                    (first + 1, "function skipped: pycparser: nested too deeply (Python recursion limit)"),
                    (first + 12, "function skipped: pycparser: nested too deeply (Python recursion limit)")]
    assert report.functions_found - report.functions_recovered == 3  # the long flat chain is kept


CYCLES = r"""#include "qemu/osdep.h"
#include "hw/sysbus.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

typedef struct CycState { SysBusDevice parent_obj; MemoryRegion mmio; MemoryRegion *p; } CycState;
static void rec_a(CycState *s, int n);
static void rec_b(CycState *s, int n) { rec_a(s, n - 1); memory_region_add_subregion(get_system_memory(), 0, &s->mmio); }
static void rec_a(CycState *s, int n) { if (n) rec_b(s, n); rec_a(s, n); }
static void cyc_realize(DeviceState *dev, Error **errp) { CycState *s = (CycState *)dev; rec_a(s, 3); cyc_realize(dev, errp); s->p = &s->mmio; memory_region_add_subregion(s->p, 0, s->p); }
static void cyc_unrealize(DeviceState *dev) { CycState *s = (CycState *)dev; object_unparent(OBJECT(&s->mmio)); object_unparent(OBJECT(&s->mmio)); }
static void cyc_finalize(Object *obj) { CycState *s = (CycState *)obj; g_free(s); g_free(s); timer_free(s->p); }
static void cyc_class_init(ObjectClass *klass, const void *data) {
    DeviceClass *dc = DEVICE_CLASS(klass);
    dc->realize = cyc_realize; dc->realize = dc->realize; dc->unrealize = 0; dc->unrealize = cyc_unrealize;
    device_class_set_parent_realize(dc, cyc_realize, (DeviceRealize *)&dc->realize);
}
static const TypeInfo types[] = {
    { .name = "cyc-a", .parent = "cyc-b", .instance_size = sizeof(CycState), .class_init = cyc_class_init, .instance_finalize = cyc_finalize },
    { .name = "cyc-b", .parent = "cyc-a", .class_init = cyc_class_init },
    { .name = "cyc-self", .parent = "cyc-self", .class_init = cyc_class_init, .instance_init = (void *)cyc_class_init },
    { .name = "cyc-c", .parent = "cyc-self", .abstract = 1 },
    { .name = "cyc-a", .parent = "sys-bus-device" },
};
DEFINE_TYPES(types)
"""


def test_cycles_in_calls_and_types_terminate(tmp_path, catalog):
    # recursion, mutual recursion, a type that is its own parent, two types
    # each the other's parent, a name defined twice, hooks bound twice
    root = make_tree(tmp_path)
    (root / "hw" / "bad" / "cycles.c").write_text(CYCLES)
    report, internal = run(QemuTree.open(root), [root / "hw" / "bad"], catalog,
                           limits=Limits(file_timeout=120))
    assert not internal
    assert [(n.kind, n.message) for n in report.notices] == [
        ("duplicate-type", "QOM type 'cyc-a' is also defined in hw/bad/cycles.c; using that one (2 definitions)")]
    found = {(f.loc.line, f.rule) for f in report.findings}
    # reached through the mutually recursive helpers rec_a -> rec_b
    assert (9, "subregion-not-deleted") in found
    assert all(f.loc.file == "hw/bad/cycles.c" for f in report.findings)


# -- limits --------------------------------------------------------------------

def test_large_file_limit_is_configurable(tmp_path, good_findings):
    root = make_tree(tmp_path)
    proc = lifecheck(root, "hw", "--format", "json", "-j", "1", "--max-file-size", "0.004",
                     cache=tmp_path / "cache")
    doc = json.loads(proc.stdout)
    notes = notices_by_file(doc)
    assert set(notes) == set(GOOD) and doc["findings"] == []
    assert all("larger than the limit of 4194 bytes (--max-file-size); skipped" in m[0]
               for m in notes.values())
    assert proc.returncode == 0


def test_preprocessor_that_never_finishes_is_stopped(tmp_path, good_findings):
    root = make_tree(tmp_path)
    bad = root / "hw" / "bad"
    os.mkfifo(bad / "blocks.h")  # the preprocessor waits for a writer forever
    (bad / "hang.c").write_text('#include "blocks.h"\nint h;\n')
    start = time.monotonic()
    proc = lifecheck(root, "hw", "--format", "json", "-j", "2", "--file-timeout", "3",
                     cache=tmp_path / "cache")
    assert time.monotonic() - start < 60
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert findings(doc) == good_findings
    assert notices_by_file(doc) == {
        "hw/bad/hang.c": ["analysis did not finish within 3 s (--file-timeout); not analysed"]}
    # gcc's cc1 blocked on the pipe was killed too, not left behind
    left = subprocess.run(["pgrep", "-f", str(bad / "hang.c")], capture_output=True, text=True)
    assert left.stdout.split() == []


def test_macro_bomb_is_bounded_by_the_output_limit(tmp_path, catalog, good_findings):
    root = make_tree(tmp_path)
    (root / "hw" / "bad" / "bomb.c").write_text(
        "#define B0 xxxxxxxxxxxxxxxx\n" + "".join(f"#define B{i} B{i - 1} B{i - 1}\n" for i in range(1, 40))
        + "int b = B39;\n")
    report, internal = run(QemuTree.open(root), [root / "hw"], catalog,
                           limits=Limits(max_preprocessed=4 * MB))
    assert not internal
    assert {(f.loc.file, f.loc.line, f.rule) for f in report.findings} == good_findings
    assert [(n.file, n.message) for n in report.notices] == [
        ("hw/bad/bomb.c", "preprocessed output exceeds the limit of 4 MB; not analysed")]


def _slow_in_python(pre, path):
    if path.name == "tick-counter.c":
        while True:
            pass
    return _real_analyse_file(pre, path)


_real_analyse_file = analysis.analyse_file_with_closure


def test_time_limit_stops_python_code_in_process(tmp_path, catalog, good_findings, monkeypatch):
    root = make_tree(tmp_path)
    monkeypatch.setattr(analysis, "analyse_file_with_closure", _slow_in_python)
    report, internal = run(QemuTree.open(root), [root / "hw"], catalog, limits=Limits(file_timeout=5))
    assert not internal
    assert {(f.loc.file, f.loc.line, f.rule) for f in report.findings} == \
        {f for f in good_findings if f[0] == GOOD[0]}
    assert [(n.file, n.message) for n in report.notices] == [
        (GOOD[1], "analysis did not finish within 5 s (--file-timeout); not analysed")]


def _misbehave(pre, path):
    how = path.name
    if how == "kill.c":
        os.kill(os.getpid(), signal.SIGKILL)  # what the kernel's OOM killer does
    elif how == "abort.c":
        os.abort()  # a crash in native code
    elif how == "memory.c":
        return bytearray(8192 * MB)  # over the 2 GB limit: MemoryError
    elif how == "spin.c":
        # like native code that never returns to the interpreter: the alarm
        # never gets through, only the CPU-time limit stops it
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        while True:
            pass
    elif how == "bug.c":
        raise KeyError("a bug in lifecheck")
    return _real_analyse_file(pre, path)


@needs_fork
@pytest.mark.parametrize("name, timeout, message, internal", [
    ("kill.c", 60, "its worker was killed (SIGKILL), most likely by the system for using too much memory; "
                   "not analysed", False),
    ("abort.c", 60, f"internal error: the worker analysing this file died (exit status {-signal.SIGABRT})", True),
    ("memory.c", 60, "ran out of memory (limit 2048 MB per worker, --max-memory); not analysed", False),
    # the CPU backstop (twice the time limit, plus 2 s) is cut to 3 s below
    ("spin.c", 60, "used more than 3 s of CPU time (the backstop of --file-timeout 60 s); not analysed", False),
    ("bug.c", 60, "internal error: KeyError: 'a bug in lifecheck' (at test_hostile.py:", True),
])
def test_a_file_that_kills_its_worker_costs_only_that_file(tmp_path, catalog, good_findings, monkeypatch,
                                                            name, timeout, message, internal):
    root = make_tree(tmp_path)
    (root / "hw" / "bad" / name).write_text("int x;\n")
    monkeypatch.setattr(analysis, "analyse_file_with_closure", _misbehave)
    monkeypatch.setattr(limits_module, "cpu_budget", lambda limits: 3)
    limits = Limits(file_timeout=timeout, worker_memory=2048 * MB, isolate=True)
    report, was_internal = run(QemuTree.open(root), [root / "hw"], catalog, jobs=2, limits=limits)
    assert [(n.file, n.message) for n in report.notices if n.file != f"hw/bad/{name}"] == []
    assert was_internal == internal
    assert {(f.loc.file, f.loc.line, f.rule) for f in report.findings} == good_findings
    assert len(report.notices) == 1
    assert report.notices[0].message.startswith(message)


@needs_fork
def test_internal_error_exits_2_and_still_prints_the_other_findings(tmp_path, capsys, monkeypatch,
                                                                     good_findings):
    root = make_tree(tmp_path)
    (root / "hw" / "bad" / "bug.c").write_text("int x;\n")
    monkeypatch.setattr(analysis, "analyse_file_with_closure", _misbehave)
    monkeypatch.setenv("LIFECHECK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(root)
    status = cli.main(["check", "hw", "-j", "1", "-v", "--show-all"])
    out, err = capsys.readouterr()
    assert status == 2
    for file, line, rule in good_findings:
        assert f"{file}:{line}:" in out and f"[{rule}]" in out
    assert "hw/bad/bug.c:0: note: could not analyse: internal error: KeyError" in out
    assert "internal error while analysing some files" in err


# -- the tree root -------------------------------------------------------------------

@pytest.mark.parametrize("setup, message", [
    (lambda r: None, "not a folder"),
    (lambda r: r.mkdir(), "not a QEMU tree"),
    (lambda r: (r.mkdir(), (r / "include" / "qemu").mkdir(parents=True)), "not a QEMU tree"),
    (lambda r: (make_tree(r.parent), (r / "VERSION").unlink(), (r / "VERSION").mkdir()), "not a QEMU tree"),
])
def test_wrong_root_is_a_usage_error(tmp_path, setup, message):
    root = tmp_path / "tree"
    setup(root)
    proc = lifecheck(tmp_path, "--root", str(root), str(tmp_path), cache=tmp_path / "cache")
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_garbage_version_still_checks_with_every_rule(tmp_path, good_findings):
    root = make_tree(tmp_path)
    (root / "VERSION").write_bytes(b"\xff\xfe not a version \x00\n")
    proc = lifecheck(root, "hw", "--format", "json", "-j", "1", cache=tmp_path / "cache")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert findings(doc) == good_findings
    assert doc["qemu_version"] == "\ufffd\ufffd not a version \x00"
    assert notices_by_file(doc) == {
        "VERSION": ["names no QEMU version; every rule is run, whatever versions it applies to"]}


def test_path_outside_the_root_is_a_notice(tmp_path, good_findings):
    root = make_tree(tmp_path)
    elsewhere = tmp_path / "elsewhere.c"
    elsewhere.write_text("int e;\n")
    proc = lifecheck(root, "--root", str(root), "hw", str(elsewhere), "--format", "json", "-j", "1",
                     cache=tmp_path / "cache")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert findings(doc) == good_findings
    assert notices_by_file(doc) == {str(elsewhere): [f"outside the tree root {root}; skipped"]}


# -- nothing from the tree is trusted -----------------------------------------------

def test_preprocessor_argv_is_built_by_lifecheck_alone(tmp_path, monkeypatch, catalog):
    clean = make_tree(tmp_path / "a")
    hostile = make_tree(tmp_path / "b")
    for name in ("-fplugin=evil.so.c", "--help.c"):
        shutil.copy(hostile / GOOD[0], hostile / "hw" / "bad" / name)
        shutil.copy(clean / GOOD[0], clean / "hw" / "bad" / name)
    marker = tmp_path / "ran"
    (hostile / "compile_commands.json").write_text(json.dumps(
        [{"directory": "/", "file": "hw/bad/-fplugin=evil.so.c",
          "command": f"gcc -fplugin=/tmp/evil.so -include /etc/passwd -E x.c; touch {marker}"}]))
    (hostile / "meson.build").write_text(f"run_command('touch', '{marker}')\n")
    (hostile / "configure").write_text(f"#!/bin/sh\ntouch {marker}\n")
    (hostile / "configure").chmod(0o755)
    (hostile / "hw" / "bad" / "-fplugin=evil.so.c").write_text(
        '#pragma GCC plugin "evil"\n_Pragma("GCC dependency \\"/etc/passwd\\"")\n'
        + (hostile / GOOD[0]).read_text())
    calls = []
    real_popen = subprocess.Popen

    def record(cmd, *args, **kwargs):
        calls.append((cmd, kwargs.get("shell")))
        return real_popen(cmd, *args, **kwargs)
    monkeypatch.setattr(preprocess.subprocess, "Popen", record)

    def argvs(root):
        calls.clear()
        run(QemuTree.open(root), [root / "hw"], catalog)
        return sorted([re.sub(r"stubs/[0-9a-f]+", "stubs/KEY", a.replace(str(root), "ROOT")) for a in cmd]
                      for cmd, _ in calls)
    clean_argvs, hostile_calls = argvs(clean), None
    hostile_argvs = argvs(hostile)
    hostile_calls = list(calls)
    assert hostile_argvs == clean_argvs
    assert any(os.path.basename(cmd[0]) == "cc1" for cmd, _ in hostile_calls)
    for cmd, shell in hostile_calls:
        assert isinstance(cmd, list) and shell is False
        assert not any(a.startswith("-fplugin") or a.startswith("--help") for a in cmd)
        if "-###" in cmd:  # asking gcc which cc1 command it would run: never with a file of the tree
            assert cmd[-1] == preprocess._STAND_IN
            continue
        sources = [a for a in cmd if a.endswith(".c")]
        assert len(sources) == 1 and sources[0].startswith(str(hostile) + "/"), \
            "files are passed by absolute names"
    assert not marker.exists()


def test_a_file_named_like_an_option_is_passed_as_a_path(tmp_path):
    root = make_tree(tmp_path)
    pre = Preprocessor(QemuTree.open(root), tmp_path / "stubs")
    cmd = pre.command(Path("-fplugin=x.c"))
    assert cmd[-1] == "./-fplugin=x.c"
    with pytest.raises(PreprocessError):  # a missing file, not an option
        pre.run(Path("-fplugin=x.c"))


def test_rules_dir_is_data_only(tmp_path, good_findings):
    root = make_tree(tmp_path)
    rules = tmp_path / "rules"
    rules.mkdir()
    marker = tmp_path / "imported"
    for name in ("__init__.py", "evil.py", "conftest.py"):
        (rules / name).write_text(f"open({str(marker)!r}, 'w').close()\n")
    proc = lifecheck(root, "hw", "--rules-dir", str(rules), "--format", "json", "-j", "1",
                     cache=tmp_path / "cache")
    assert proc.returncode == 1, proc.stderr
    assert findings(json.loads(proc.stdout)) == good_findings
    assert not marker.exists()


def _snapshot(root: Path) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            out[os.path.relpath(path, root)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


def test_nothing_is_written_into_the_working_folder_or_the_tree(tmp_path):
    """Started from an empty folder, or from inside the tree it checks,
    lifecheck leaves both as they were; what its parser needs to keep
    (pycparser 2's PLY tables, on Python 3.9) goes to the cache folder."""
    root = make_tree(tmp_path)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    cache = tmp_path / "cache"
    env = dict(os.environ, LIFECHECK_CACHE_DIR=str(cache))
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    before_tree, before_cwd = _snapshot(root), _snapshot(cwd)
    for where, jobs in ((cwd, "1"), (root / "hw", "2"), (root, "1")):
        proc = subprocess.run([sys.executable, "-m", "lifecheck", "check", str(root / "hw"), "-j", jobs],
                              cwd=where, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 1, proc.stderr
        assert _snapshot(cwd) == before_cwd, where
        assert _snapshot(root) == before_tree, where
    if not parse._NEW_PARSER:
        assert list(cache.glob("parser-tables/*/yacc.json"))


def test_nothing_is_written_into_the_tree_and_paths_are_relative(tmp_path):
    root = make_tree(tmp_path)
    (root / "hw" / "bad" / "broken.c").write_text("int broken(\n")
    before = _snapshot(root)
    outputs = {}
    for fmt in ("text", "json", "sarif"):
        proc = lifecheck(root, "hw", "--format", fmt, "-v", "-j", "2", cache=tmp_path / "cache")
        assert proc.returncode == 1, proc.stderr
        outputs[fmt] = proc.stdout
    assert _snapshot(root) == before
    for fmt, text in outputs.items():
        assert str(root) not in text and str(tmp_path) not in text, fmt
    doc = json.loads(outputs["json"])
    assert all(not f["file"].startswith("/") for f in doc["findings"] + doc["notices"])
    # --output inside the tree writes that one file
    proc = lifecheck(root, "hw", "--output", "report.sarif", "--format", "sarif", "-j", "1",
                     cache=tmp_path / "cache")
    assert proc.returncode == 1
    after = _snapshot(root)
    assert set(after) - set(before) == {"report.sarif"}
    assert {k: v for k, v in after.items() if k != "report.sarif"} == before
