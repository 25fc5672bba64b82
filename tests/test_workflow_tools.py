"""lifecheck with the real tools around it: pre-commit (from PyPI), Microsoft's
SARIF multitool (from npm), and the CI command lines of docs/ci.md.

The tools are installed at test time, outside the repository (pre-commit is
a test extra; the multitool goes to ~/.cache/lifecheck-tests/); the tests
skip and say why when that is impossible (no npm, no network)."""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from conftest import REPO, _cache_dir
from test_workflow import DEBUG_PORT, STATUS_DEL, edit, git, git_tree, stub_tree

HOTKEYS = "hw/input/pci-hotkeys.c"
LED_LINE = 78   # qemu_add_led_event_handler() in pci_hotkeys_realize

SCHEMA = REPO / "tests" / "schemas" / "sarif-schema-2.1.0.json"
NETWORK_TROUBLE = ("Could not find a version", "No matching distribution", "Failed to establish",
                   "Temporary failure in name resolution", "Network is unreachable", "ConnectionError",
                   "Connection refused", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNREFUSED",
                   "getaddrinfo", "Read timed out", "ProxyError")


def _offline(output: str) -> bool:
    return any(marker in output for marker in NETWORK_TROUBLE)


def validate_sarif(doc: dict) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(doc)


# -- pre-commit ----------------------------------------------------------------------

def _pre_commit(*args, cwd, env):
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=str(cwd), env=env,
                          capture_output=True, text=True, timeout=1200)


def _hook_repo(tmp_path: Path) -> Path:
    """This checkout, as try-repo sees it.  With uncommitted changes to
    tracked files try-repo would build a new shadow repository (and a new
    hook environment) on every call; one snapshot commit of the same files
    is built here instead, so the three calls below share one environment."""
    if subprocess.run(["git", "-C", str(REPO), "diff", "--quiet", "HEAD"]).returncode == 0:
        return REPO
    snap = tmp_path / "lifecheck-snapshot"
    git(tmp_path, "clone", "-q", str(REPO), str(snap))
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, text=True).stdout
    for rel in filter(None, files.split("\0")):
        if (REPO / rel).is_file():
            (snap / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, snap / rel)
        elif (snap / rel).exists():
            (snap / rel).unlink()
    git(snap, "add", "-A")
    git(snap, "commit", "-q", "--allow-empty", "-m", "working tree of the checkout under test")
    return snap


def test_pre_commit_hook_blocks_a_bad_change_and_passes_a_good_one(tmp_path):
    pytest.importorskip("pre_commit", reason="pre-commit is not installed (pip install '.[test]')")
    if subprocess.run(["git", "-C", str(REPO), "rev-parse", "--git-dir"], capture_output=True).returncode:
        pytest.skip(f"{REPO} is not a git checkout: pre-commit try-repo needs one")
    tracked = subprocess.run(["git", "-C", str(REPO), "ls-files", "--error-unmatch", ".pre-commit-hooks.yaml"],
                             capture_output=True, text=True)
    assert tracked.returncode == 0, ".pre-commit-hooks.yaml must be committed (or staged) for try-repo"
    # a QEMU-shaped project with one device, committed; the bug in it fixed;
    # warnings block commits (debug-port cannot be unplugged: its findings
    # hold only in principle, warnings this tree asks to see with show-all)
    root = git_tree(tmp_path, DEBUG_PORT)
    edit(root, DEBUG_PORT, STATUS_DEL, STATUS_DEL + "    memory_region_del_subregion(debug_port_io_space, &s->data);\n")
    (root / "lifecheck.toml").write_text('fail-on = "warning"\nshow-all = true\n')
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "debug-port: delete the data port on unrealize")
    hooks = _hook_repo(tmp_path)
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit"), LIFECHECK_CACHE_DIR=str(tmp_path / "lc"))

    # a good change: a comment
    edit(root, DEBUG_PORT, "static void debug_port_unrealize(DeviceState *dev)\n",
         "/* Unplugging a debug port is allowed (the board may have several). */\n"
         "static void debug_port_unrealize(DeviceState *dev)\n")
    git(root, "add", DEBUG_PORT)
    good = _pre_commit("try-repo", str(hooks), "lifecheck", "--files", DEBUG_PORT, cwd=root, env=env)
    if good.returncode != 0 and _offline(good.stdout + good.stderr):
        pytest.skip("pre-commit could not install lifecheck's environment (no network?): "
                    + (good.stdout + good.stderr).strip()[-300:])
    assert good.returncode == 0, good.stdout + good.stderr
    assert re.search(r"lifecheck \(QOM device lifetime\)\.+Passed", good.stdout), good.stdout

    # a bad change: unrealize forgets the status port
    edit(root, DEBUG_PORT, STATUS_DEL, "")
    git(root, "add", DEBUG_PORT)
    bad = _pre_commit("try-repo", str(hooks), "lifecheck", "--files", DEBUG_PORT, cwd=root, env=env)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert re.search(r"lifecheck \(QOM device lifetime\)\.+Failed", bad.stdout), bad.stdout
    assert (f"{DEBUG_PORT}:99:5: warning: self.status is mapped into debug_port_io_space in realize"
            in bad.stdout), bad.stdout
    # the changed-code hook blocks it too: the finding's release site (unrealize) changed
    changed = _pre_commit("try-repo", str(hooks), "lifecheck-diff", "--files", DEBUG_PORT, cwd=root, env=env)
    assert changed.returncode == 1, changed.stdout + changed.stderr
    assert f"{DEBUG_PORT}:99:5: warning: self.status" in changed.stdout, changed.stdout
    # the hook reads lifecheck.toml: with fail-on = "error" a warning does not block
    (root / "lifecheck.toml").write_text('fail-on = "error"\nshow-all = true\n')
    relaxed = _pre_commit("try-repo", str(hooks), "lifecheck", "--files", DEBUG_PORT, cwd=root, env=env)
    assert relaxed.returncode == 0, relaxed.stdout + relaxed.stderr


# -- SARIF multitool --------------------------------------------------------------------

def _multitool() -> Path:
    """Microsoft's SARIF multitool, installed once with npm into the test cache."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("npm/node not available to install @microsoft/sarif-multitool")
    prefix = _cache_dir() / "sarif-multitool"
    locate = ["node", "-e", "console.log(require('@microsoft/sarif-multitool'))"]
    found = subprocess.run(locate, cwd=str(prefix), capture_output=True, text=True) if prefix.is_dir() else None
    if found is None or found.returncode != 0:
        prefix.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(prefix),
                               "@microsoft/sarif-multitool"], capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            reason = "no network?" if _offline(proc.stdout + proc.stderr) else "npm failed"
            pytest.skip(f"cannot install @microsoft/sarif-multitool ({reason}): {proc.stderr.strip()[-300:]}")
        found = subprocess.run(locate, cwd=str(prefix), capture_output=True, text=True)
    binary = Path(found.stdout.strip())
    if not binary.is_file():
        pytest.skip(f"@microsoft/sarif-multitool installed no binary for this platform ({binary})")
    if not os.access(binary, os.X_OK):
        binary.chmod(0o755)  # its postinstall step does this; npm may skip install scripts
    return binary


def multitool_validate(sarif_file: Path, tmp_path: Path) -> list:
    """(level, ruleId, message) of every error and warning the multitool
    reports, with its SARIF and GitHub (code scanning ingestion) rules."""
    out = tmp_path / (sarif_file.stem + ".validation.sarif")
    # the binary is run directly: its npm wrapper passes arguments through a shell
    proc = subprocess.run([str(_multitool()), "validate", str(sarif_file), "--output", str(out),
                           "--log", "ForceOverwrite", "--rule-kind", "Sarif;Gh"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and out.is_file(), proc.stdout + proc.stderr
    results = json.loads(out.read_text(encoding="utf-8-sig"))["runs"][0].get("results", [])
    problems = []
    for r in results:
        level = r.get("level", "warning")
        if level in ("error", "warning"):
            text = r["message"].get("text") or " ".join(r["message"].get("arguments", []))
            problems.append((level, r["ruleId"], text))
    return problems


def test_examples_sarif_passes_the_sarif_multitool(tmp_path):
    root = stub_tree(tmp_path)
    # a suppression that silences nothing, so the pseudo-rule is in the log too
    edit(root, DEBUG_PORT, "    debug_port_map_status(s, debug_port_io_space);",
         "    debug_port_map_status(s, debug_port_io_space); /* lifecheck: ignore[subregion-not-deleted] */")
    sarif_file = tmp_path / "examples.sarif"
    proc = subprocess.run([sys.executable, "-m", "lifecheck", "check", ".", "-j", "1", "--format", "sarif",
                           "--output", str(sarif_file)], cwd=str(root), capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(sarif_file.read_text())
    validate_sarif(doc)
    assert {r["ruleId"] for r in doc["runs"][0]["results"]} >= {"subregion-not-deleted", "unused-suppression"}
    problems = multitool_validate(sarif_file, tmp_path)
    if not doc["runs"][0]["tool"]["driver"].get("informationUri"):
        # lifecheck has no published home page yet: set [project.urls] Homepage in
        # pyproject.toml and this warning goes away
        problems = [p for p in problems if p[1] != "SARIF2005"]
    assert problems == []


# -- docs/ci.md ---------------------------------------------------------------------------

def _blocks(markdown: str, lang: str) -> list:
    return re.findall(r"^```" + lang + r"\n(.*?)^```", markdown, flags=re.S | re.M)


def _yaml_commands(node) -> list:
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "script" and isinstance(value, list):
                out += [v for v in value if isinstance(v, str)]
            elif key == "run" and isinstance(value, str):
                out.append(value)
            else:
                out += _yaml_commands(value)
    elif isinstance(node, list):
        for item in node:
            out += _yaml_commands(item)
    return [c for c in out if c.startswith("lifecheck ")]


def _run_doc_command(command: str, root: Path, env: dict):
    # $VAR and ${VAR} from env, as the CI shell would expand them
    expanded = re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), m.group(0)), command)
    argv = shlex.split(expanded)
    assert argv[0] == "lifecheck"
    return subprocess.run([sys.executable, "-m", "lifecheck", *argv[1:], "-j", "1"], cwd=str(root), env=env,
                          capture_output=True, text=True, timeout=600)


def test_ci_doc_commands_run_as_written(tmp_path):
    yaml = pytest.importorskip("yaml", reason="PyYAML (a pre-commit dependency) is not installed")
    doc = (REPO / "docs" / "ci.md").read_text()
    adopt = [line for block in _blocks(doc, "sh") for line in block.splitlines() if line.startswith("lifecheck ")]
    ci = [c for block in _blocks(doc, "yaml") for c in _yaml_commands(yaml.safe_load(block))]
    assert len(adopt) == 2 and len(ci) == 4, (adopt, ci)
    (toml,) = _blocks(doc, "toml")

    # adoption: the examples tree has old findings
    root = git_tree(tmp_path)
    (root / "lifecheck.toml").write_text(toml)
    env = dict(os.environ, LIFECHECK_CACHE_DIR=str(tmp_path / "lc"))
    results = [_run_doc_command(c, root, env) for c in adopt]
    assert [p.returncode for p in results] == [0, 0], [p.stderr for p in results]
    assert results[1].stdout == ""
    assert re.search(r"baseline lifecheck-baseline.json: (\d+) known finding\(s\) hidden", results[1].stderr)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "adopt lifecheck")
    env["LIFECHECK_BASE"] = env["BASE_SHA"] = git(root, "rev-parse", "HEAD").strip()

    # a merge request that makes one new bug, in a hot-pluggable PCI card
    # (a bug in a board device would hold only in principle: hidden)
    edit(root, HOTKEYS, "    qemu_remove_led_event_handler(s->led_entry);\n", "")
    git(root, "commit", "-q", "-a", "-m", "pci-hotkeys: simplify exit")
    for command in ci:
        for name in ("gl-code-quality-report.json", "lifecheck.sarif"):
            (root / name).unlink(missing_ok=True)
        proc = _run_doc_command(command, root, env)
        assert proc.returncode == 1, (command, proc.stdout, proc.stderr)  # fail-on = "warning"
        if "--format gitlab" in command:
            issues = json.loads((root / "gl-code-quality-report.json").read_text())
            assert [(i["location"]["path"], i["location"]["lines"]["begin"], i["check_name"], i["severity"])
                    for i in issues] == [(HOTKEYS, LED_LINE, "leak-on-unrealize", "critical")]
        elif "--format github" in command:
            assert proc.stdout.startswith(f"::error file={HOTKEYS},line={LED_LINE},"), proc.stdout
            assert len(proc.stdout.splitlines()) == 1
        else:
            assert proc.stdout.startswith(f"{HOTKEYS}:{LED_LINE}:"), proc.stdout
            assert " error: " in proc.stdout and "-- use after free after unplug" in proc.stdout
            assert len(proc.stdout.splitlines()) == 1
        if "sarif:lifecheck.sarif" in command:
            sarif = json.loads((root / "lifecheck.sarif").read_text())
            validate_sarif(sarif)
            assert [(r["ruleId"], r["baselineState"], r["properties"]["consequence"])
                    for r in sarif["runs"][0]["results"]] == [
                ("leak-on-unrealize", "new", "use-after-free-after-unplug")]
