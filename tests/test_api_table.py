"""The API family table in rules/api/: its schema, and that it names real QEMU
functions.

The schema check is written out here, independently of
lifecheck.rules.catalog, so that the table is held to the documented format
whatever the loader accepts.  The realtree test looks every function up in
the include/ tree of QEMU 10.2.2 (fetched by conftest.fetch_qemu)."""
from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

API_DIR = Path(__file__).resolve().parent.parent / "rules" / "api"
RULES_DIR = API_DIR.parent

NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
FUNCTION_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
VERSION_RE = re.compile(r"^\d+\.\d+(\.\d+)?$")
FAMILY_KEYS = {"name", "header", "old_headers", "summary", "must_release", "versions", "traits",
               "mined", "acquire", "release", "disarm"}
REQUIRED_FAMILY_KEYS = {"name", "header", "summary", "must_release", "acquire", "release"}
CALL_KEYS = {"function", "resource", "container", "owner", "attrs", "versions", "on_failure", "if_args", "keeps"}
ROLES = ("acquire", "release", "disarm")
# What the analyses recognise a family by (never its name in Python).
from lifecheck.facts.api import ATTRS, TRAITS  # noqa: E402
# glib is not part of the QEMU tree: those headers are glib's own.
EXTERNAL_HEADER_PREFIXES = ("glib/", "fcntl.h")   # glib, POSIX (open/close: the file-descriptor family)


def _versions_problems(value, where: str) -> List[str]:
    if not isinstance(value, dict):
        return [f"{where}: versions must be a table"]
    problems = [f"{where}: unknown versions key '{k}'" for k in value if k not in ("min", "max")]
    for key in ("min", "max"):
        if key in value and not (isinstance(value[key], str) and VERSION_RE.match(value[key])):
            problems.append(f"{where}: versions.{key} must be a version string like \"8.0\"")
    if not problems and "min" in value and "max" in value:
        if _version(value["min"]) >= _version(value["max"]):
            problems.append(f"{where}: versions.min must be below versions.max")
    return problems


def _version(text: str) -> Tuple[int, ...]:
    return tuple(int(p) for p in text.split("."))


def _call_problems(call, where: str) -> List[str]:
    if not isinstance(call, dict):
        return [f"{where}: must be a table"]
    problems = [f"{where}: unknown key '{k}'" for k in call if k not in CALL_KEYS]
    fn = call.get("function")
    if not (isinstance(fn, str) and FUNCTION_RE.match(fn)):
        problems.append(f"{where}: 'function' must be a C identifier")
    res = call.get("resource")
    if "resource" not in call:
        problems.append(f"{where}: missing 'resource'")
    elif not isinstance(res, int) or isinstance(res, bool) or res < -1:
        problems.append(f"{where}: 'resource' must be an argument index or -1")
    if "container" in call:
        con = call["container"]
        if not isinstance(con, int) or isinstance(con, bool) or con < 0:
            problems.append(f"{where}: 'container' must be an argument index")
    if "owner" in call:
        own = call["owner"]
        if not isinstance(own, int) or isinstance(own, bool) or own < 0:
            problems.append(f"{where}: 'owner' must be an argument index")
    if "attrs" in call:
        attrs = call["attrs"]
        if not (isinstance(attrs, list) and all(isinstance(a, str) for a in attrs)):
            problems.append(f"{where}: 'attrs' must be a list of strings")
        else:
            problems += [f"{where}: unknown attr '{a}'" for a in attrs if a not in ATTRS]
    if "versions" in call:
        problems += _versions_problems(call["versions"], where)
    if "keeps" in call:
        keeps = call["keeps"]
        if not (isinstance(keeps, list) and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0
                                                for i in keeps)):
            problems.append(f"{where}: 'keeps' must be a list of argument indexes")
    return problems


def family_problems(fam, where: str) -> List[str]:
    """Everything wrong with one [[family]] table, as readable messages."""
    if not isinstance(fam, dict):
        return [f"{where}: must be a table"]
    problems = [f"{where}: unknown key '{k}'" for k in fam if k not in FAMILY_KEYS]
    problems += [f"{where}: missing key '{k}'" for k in sorted(REQUIRED_FAMILY_KEYS - set(fam))]
    name = fam.get("name")
    if "name" in fam and not (isinstance(name, str) and NAME_RE.match(name)):
        problems.append(f"{where}: name must be lower-case-hyphenated")
    if "header" in fam and not (isinstance(fam["header"], str) and fam["header"].endswith(".h")):
        problems.append(f"{where}: header must be a path to a .h file")
    if "old_headers" in fam:
        olds = fam["old_headers"]
        if not (isinstance(olds, list) and olds and all(isinstance(h, str) and h.endswith(".h") for h in olds)):
            problems.append(f"{where}: old_headers must be a non-empty list of .h paths")
    if "summary" in fam and not (isinstance(fam["summary"], str) and fam["summary"].strip()):
        problems.append(f"{where}: summary must be a non-empty string")
    if "must_release" in fam and not isinstance(fam["must_release"], bool):
        problems.append(f"{where}: must_release must be true or false")
    if "mined" in fam and not isinstance(fam["mined"], bool):
        problems.append(f"{where}: mined must be true or false")
    if "traits" in fam:
        traits = fam["traits"]
        if not (isinstance(traits, list) and all(isinstance(t, str) for t in traits)):
            problems.append(f"{where}: 'traits' must be a list of strings")
        else:
            problems += [f"{where}: unknown trait '{t}'" for t in traits if t not in TRAITS]
    if "versions" in fam:
        problems += _versions_problems(fam["versions"], where)
    for role in ROLES:
        if role not in fam:
            continue
        calls = fam[role]
        if not isinstance(calls, list) or (role != "disarm" and not calls):
            problems.append(f"{where}: '{role}' must be a non-empty list of calls")
            continue
        seen = {}
        for j, call in enumerate(calls):
            problems += _call_problems(call, f"{where}.{role}[{j}]")
            if role != "release" and isinstance(call, dict) and "frees-argument" in (call.get("attrs") or ()):
                problems.append(f"{where}.{role}[{j}]: 'frees-argument' is for release calls")
            fn = call.get("function") if isinstance(call, dict) else None
            span = _span(call)
            # a call may be listed once per range of versions where it
            # behaves alike (migrate_add_blocker() before and since 8.2)
            if fn in seen and (span is None or any(s is None or _overlap(s, span) for s in seen[fn])):
                problems.append(f"{where}.{role}: '{fn}' listed twice")
            seen.setdefault(fn, []).append(span)
    return problems


def _span(call):
    """The versions a call is listed for, as (low, high) tuples; None: all."""
    v = call.get("versions") if isinstance(call, dict) else None
    if not isinstance(v, dict):
        return None

    def ver(text, default):
        return tuple(int(x) for x in str(text).split(".")) if text is not None else default
    return ver(v.get("min"), (0,)), ver(v.get("max"), (999,))


def _overlap(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def load_table(api_dir: Path = API_DIR) -> Tuple[List[Tuple[Path, dict]], List[str]]:
    """All families from ``api_dir``, and the schema problems found."""
    families: List[Tuple[Path, dict]] = []
    problems: List[str] = []
    names: Dict[str, Path] = {}
    for path in sorted(api_dir.glob("*.toml")):
        text = path.read_text()
        if not text.startswith("#"):
            problems.append(f"{path.name}: must start with a comment naming the QEMU files it rests on")
        data = tomllib.loads(text)
        unknown = set(data) - {"family"}
        if unknown:
            problems.append(f"{path.name}: unknown top-level keys {sorted(unknown)}")
        fams = data.get("family")
        if not isinstance(fams, list) or not fams:
            problems.append(f"{path.name}: no [[family]] tables")
            continue
        for i, fam in enumerate(fams):
            where = f"{path.name}: family[{i}]"
            if isinstance(fam, dict) and isinstance(fam.get("name"), str):
                where = f"{path.name}: family '{fam['name']}'"
                if fam["name"] in names:
                    problems.append(f"{where}: name already used in {names[fam['name']].name}")
                names[fam["name"]] = path
            problems += family_problems(fam, where)
            families.append((path, fam))
    return families, problems


# -- the table as committed ---------------------------------------------------

def test_every_family_follows_the_schema():
    _, problems = load_table()
    assert not problems, "\n".join(problems)


def test_at_least_forty_families_each_with_acquire_and_release():
    families, _ = load_table()
    assert len(families) >= 40
    for path, fam in families:
        assert fam.get("acquire") and fam.get("release"), f"{path.name}: {fam.get('name')}"


def test_names_other_data_refers_to_exist():
    families, _ = load_table()
    names = {fam["name"] for _, fam in families}
    # every trait the analyses rely on is given to a family
    assert {t for _, fam in families for t in fam.get("traits", [])} == set(TRAITS)
    referenced = set()
    for path in RULES_DIR.glob("*.toml"):
        config = tomllib.loads(path.read_text()).get("config", {})
        fams = config.get("families", [])
        if fams == "must_release":   # every family marked must_release
            fams = []
        referenced.update(fams if isinstance(fams, list) else [fams])
        for key in ("exclude_families", "local_families"):
            referenced.update(config.get(key, []))
        referenced.update(m["family"] for m in config.get("match", []))
    assert referenced <= names, sorted(referenced - names)


def test_framework_reclaimed_families_are_not_must_release():
    families = {fam["name"]: fam for _, fam in load_table()[0]}
    assert families["memory-region"]["must_release"] is False
    assert families["qom-child"]["must_release"] is False
    assert families["timer"]["must_release"] is True
    # timer_del() stops a heap timer but does not free it
    assert [c["function"] for c in families["timer"]["disarm"]] == ["timer_del"]
    assert "timer_del" not in {c["function"] for c in families["timer"]["release"]}


# "# idempotent: dir/file.c function() ..." on the comment lines just above
IDEMPOTENT_WHY_RE = re.compile(r"#.*\bidempotent\b.*\b[\w-]+(/[\w.-]+)+\.[ch]\b.*\w+\(")


def idempotent_calls_without_reason(text: str) -> List[str]:
    """The release calls marked idempotent whose comment (the lines of
    comment right above them) does not name the QEMU file and function
    that make a second call harmless."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        if not re.search(r'attrs = \[[^]]*"idempotent"', line):
            continue
        j, comment = i - 1, []
        while j >= 0 and lines[j].strip().startswith("#"):
            comment.insert(0, lines[j].strip())
            j -= 1
        # a call may share the comment of the call it sits under
        while j >= 0 and not comment and 'attrs = [' in lines[j] and '"idempotent"' in lines[j]:
            j -= 1
            while j >= 0 and lines[j].strip().startswith("#"):
                comment.insert(0, lines[j].strip())
                j -= 1
        if not any(IDEMPOTENT_WHY_RE.search(c) for c in comment):
            out.append(line.strip())
    return out


def test_every_idempotent_call_says_which_qemu_code_makes_it_so():
    """double-release skips a call marked idempotent: the mark must rest on
    QEMU's code, cited beside it."""
    missing = []
    for path in sorted(API_DIR.glob("*.toml")):
        missing += [f"{path.name}: {c}" for c in idempotent_calls_without_reason(path.read_text())]
    assert not missing, "\n".join(missing)
    assert idempotent_calls_without_reason(
        'release = [\n  { function = "f", resource = 0, attrs = ["idempotent"] },\n]') != []
    assert idempotent_calls_without_reason(
        'release = [\n  # idempotent: util/f.c f() checks and clears\n'
        '  { function = "f", resource = 0, attrs = ["idempotent"] },\n]') == []


def test_docs_table_is_the_generated_one():
    script = RULES_DIR.parent / "scripts" / "api_table.py"
    render = runpy.run_path(str(script))["render"]
    committed = (RULES_DIR.parent / "docs" / "api-families.md").read_text()
    assert committed == render(API_DIR), "run: python3 scripts/api_table.py > docs/api-families.md"


# -- the checker itself must be able to fail ----------------------------------

def test_schema_check_reports_each_kind_of_mistake(tmp_path):
    (tmp_path / "bad.toml").write_text(
        "# bad\n"
        "[[family]]\nname = \"Timer\"\nheader = \"include/qemu/timer.h\"\n"
        "summary = \"x\"\nmust_release = 1\ncolour = \"red\"\nmined = \"yes\"\n"
        "acquire = [ { function = \"timer_new_ns\", resource = \"-1\" },"
        " { function = \"timer_new_ms\", resource = -1, attrs = [\"frees-argument\"] } ]\n"
        "release = []\n"
        "[[family]]\nname = \"dup\"\nheader = \"a.h\"\nsummary = \"s\"\nmust_release = true\n"
        "versions = { min = \"10.2\", max = \"8.0\" }\n"
        "acquire = [ { function = \"f\", resource = 0 }, { function = \"f\", resource = 0 } ]\n"
        "release = [ { function = \"g\", resource = 0, container = -2 } ]\n")
    (tmp_path / "dup.toml").write_text(
        "[[family]]\nname = \"dup\"\nheader = \"a.h\"\nsummary = \"s\"\nmust_release = true\n"
        "acquire = [ { function = \"f\" } ]\nrelease = [ { function = \"g\", resource = 0 } ]\n")
    _, problems = load_table(tmp_path)
    text = "\n".join(problems)
    for expected in ("name must be lower-case-hyphenated", "must_release must be true or false",
                     "unknown key 'colour'", "'resource' must be an argument index or -1",
                     "'release' must be a non-empty list", "versions.min must be below",
                     "'f' listed twice", "'container' must be an argument index",
                     "missing 'resource'", "name already used in", "must start with a comment",
                     "mined must be true or false", "'frees-argument' is for release calls"):
        assert expected in text, f"{expected!r} not reported:\n{text}"


# -- against a real tree -------------------------------------------------------

def _applies(versions, version: Tuple[int, ...]) -> bool:
    if not versions:
        return True
    if "min" in versions and version < _version(versions["min"]):
        return False
    if "max" in versions and version >= _version(versions["max"]):
        return False
    return True


def _declared_names(texts: List[str]) -> set:
    """Names of functions and function-like macros declared or defined in
    ``texts`` (header sources).  A declaration is a name followed by '(' that
    is either preceded on its line by a type (``void *foo(``), or starts an
    unindented line (QEMU puts long return types on the line before)."""
    names = set()
    macro = re.compile(r"^\s*#\s*define\s+([A-Za-z_]\w*)\(", re.M)
    decl = re.compile(r"^([A-Za-z_][\w \t\*]*?[\s\*])?([A-Za-z_]\w*)[ \t]*\(", re.M)
    for text in texts:
        names.update(macro.findall(text))
        for m in decl.finditer(text):
            prefix = m.group(1) or ""
            if re.search(r"\b(return|else|if|while|for|switch|case|sizeof)\b", prefix):
                continue
            names.add(m.group(2))
    return names


@pytest.mark.realtree
def test_every_function_is_declared_in_qemu_10_2(qemu_10_2):
    tree = Path(qemu_10_2)
    version = _version((tree / "VERSION").read_text().strip())
    declared = _declared_names(p.read_text(errors="replace") for p in (tree / "include").rglob("*.h"))
    missing = []
    families, _ = load_table()
    for path, fam in families:
        if fam["header"].startswith(EXTERNAL_HEADER_PREFIXES) or not _applies(fam.get("versions"), version):
            continue
        header = tree / fam["header"]
        if not header.is_file():
            missing.append(f"{path.name}: {fam['name']}: header {fam['header']} not in the tree")
        for role in ROLES:
            for call in fam.get(role, []):
                if _applies(call.get("versions"), version) and call["function"] not in declared:
                    missing.append(f"{path.name}: {fam['name']}: {call['function']}")
    assert not missing, "not declared under include/ of QEMU %s:\n%s" % (
        ".".join(map(str, version)), "\n".join(missing))
