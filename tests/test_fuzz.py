"""Fuzzing the frontend, the model, the graph, the rules and the reporters
with mutated QEMU-style device files (the examples).  Whatever the input,
no exception may escape: a construct lifecheck cannot read is a notice.

Two targets:
- ``test_fuzz_after_preprocessing``: each example is preprocessed once; its
  own lines in the preprocessed text are mutated (lines deleted, duplicated,
  swapped, truncated, random C tokens inserted, bytes flipped, line markers
  forged) and the text goes through parsing, extraction, the program graph
  with every other example, all rules and the three reporters.  Fast: the
  preprocessor is not run.
- ``test_fuzz_through_the_preprocessor``: fewer examples, the source file is
  mutated and analysed as a worker would (``gcc -E`` included).

The normal test run uses a small, derandomized budget (the same inputs on
every run).  A longer run, random and as long as you like::

    LIFECHECK_FUZZ_EXAMPLES=5000 LIFECHECK_FUZZ_RANDOM=1 pytest tests/test_fuzz.py

Every input that ever crashed lifecheck is kept under tests/regressions/
and checked by ``test_regressions``.
"""
from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="fuzzing needs the test extra (hypothesis)")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from conftest import EXAMPLES  # noqa: E402
from lifecheck.analysis import run  # noqa: E402
from lifecheck.frontend.preprocess import Preprocessor  # noqa: E402
from lifecheck.frontend.tree import QemuTree  # noqa: E402
from lifecheck.frontend.unit import analyse_file, model_from_preprocessed  # noqa: E402
from lifecheck.findings import Report  # noqa: E402
from lifecheck.graph import Program  # noqa: E402
from lifecheck.report import json_format, sarif, text  # noqa: E402
from lifecheck.rules.engine import run_rules  # noqa: E402

REGRESSIONS = Path(__file__).resolve().parent / "regressions"
BUDGET = int(os.environ.get("LIFECHECK_FUZZ_EXAMPLES", "25"))
RANDOM = bool(os.environ.get("LIFECHECK_FUZZ_RANDOM"))

FUZZ_SETTINGS = dict(
    derandomize=not RANDOM, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
)

# Tokens a mutation may insert: C punctuation, keywords, QEMU calls the
# rules look for, GNU extensions, and a few nasty bytes.
TOKENS = [
    "{", "}", "(", ")", "[", "]", ";", ",", "*", "&", "->", ".", "=", "?", ":", "...", "#", "\\",
    '"', "'", "/*", "*/", "//", "\n", "\t", "\x00", "\ufffd", "\x7f", "0x", "1e", "'\\",
    "if", "else", "while", "for", "do", "switch", "case", "default", "return", "goto", "break",
    "static", "const", "struct", "union", "enum", "typedef", "void", "int", "char", "sizeof",
    "__attribute__((unused))", "typeof", "__typeof__", "asm", "({", "})", "?:", "__auto_type",
    "_Static_assert(1, \"x\");", "__builtin_offsetof(", "__extension__",
    "memory_region_init_io(", "memory_region_add_subregion(", "memory_region_del_subregion(",
    "object_unparent(OBJECT(", "g_free(", "timer_new_ns(", "timer_free(", "timer_del(",
    "s->", "&s->mmio", "DEVICE(", "OBJECT(", "container_of(", "NULL", "errp", "error_setg(errp,",
    "dc->realize =", "dc->unrealize =", ".instance_finalize =", ".parent =", "TYPE_DEVICE",
    "type_register_static(&", "device_class_set_parent_realize(dc,",
]


# -- inputs ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus(tmp_path_factory, catalog):
    """(tree, catalog, [(rel, path, preprocessed text)], {rel: unit})."""
    os.environ.setdefault("LIFECHECK_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    tree = QemuTree.open(EXAMPLES)
    pre = Preprocessor(tree, tmp_path_factory.mktemp("stubs"))
    files = []
    units = {}
    for path in sorted((EXAMPLES / "hw").rglob("*.c")):
        rel = tree.relative(path)
        pp = pre.run(path)
        files.append((rel, path, pp.text))
        units[rel] = model_from_preprocessed(rel, path, pp.text)
    return tree, catalog, files, units


def _main_lines(text: str, path: Path):
    """Indexes of the lines of ``text`` that belong to the main file."""
    lines = text.split("\n")
    main = False
    out = []
    for i, line in enumerate(lines):
        if line.startswith("# ") and '"' in line:
            name = line.split('"')[1]
            main = name == str(path)
            continue
        if main:
            out.append(i)
    return lines, out


@st.composite
def mutations(draw, count):
    """A list of (operation, a, b, token) with a, b in [0, 1) (scaled to the
    input at hand), so one strategy serves every example."""
    ops = st.sampled_from(["delete", "duplicate", "swap", "insert", "flip", "truncate", "marker",
                           "join", "repeat"])
    unit = st.floats(min_value=0, max_value=1, exclude_max=True, allow_nan=False)
    token = st.one_of(st.sampled_from(TOKENS), st.text(max_size=8))
    return draw(st.lists(st.tuples(ops, unit, unit, token), min_size=1, max_size=count))


def mutate(text: str, path: Path, edits) -> str:
    lines, main = _main_lines(text, path)
    for op, a, b, token in edits:
        if not main:
            break
        i = main[int(a * len(main))]
        j = main[int(b * len(main))]
        line = lines[i]
        col = int(b * (len(line) + 1))
        if op == "delete":
            lines[i] = ""
        elif op == "duplicate":
            lines[i] = line + "\n" + line
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "insert":
            lines[i] = line[:col] + " " + token + " " + line[col:]
        elif op == "flip":
            if line:
                k = int(a * len(line)) % len(line)
                code = (ord(line[k]) ^ (1 + int(b * 255))) % 0x110000 or 1
                if 0xD800 <= code < 0xE000:  # decoded input never holds surrogates
                    code = 0xFFFD
                lines[i] = line[:k] + chr(code) + line[k + 1:]
        elif op == "truncate":
            lines = lines[:i] + [line[:col]]
            main = [k for k in main if k <= i]
        elif op == "marker":
            lines[i] = f'# {int(b * 100000)} "{path if a < 0.5 else token}"\n' + line
        elif op == "join":
            lines[i] = line + " " + lines[j]
        elif op == "repeat":
            lines[i] = (line + " ") * (2 + int(b * 50))
    return "\n".join(lines)


def analyse_everything(tree, catalog, units, rel, path, text):
    """The worker's job after preprocessing, then the whole-program steps
    and the reporters.  Any exception is a lifecheck bug."""
    unit = model_from_preprocessed(rel, path, text)
    program = Program([unit] + [u for r, u in sorted(units.items()) if r != rel], catalog.tables)
    findings, specs = run_rules(program, catalog, tree.version)
    report = Report(root=str(tree.root), version=tree.version_text, findings=findings, rules=specs,
                    tool_version="fuzz")
    report.notices = list(unit.notices)
    for module in (text_module, json_format, sarif):
        out = io.StringIO()
        if module is text_module:
            module.report(report, out, verbose=True)
        else:
            module.report(report, out)
        out.getvalue().encode("utf-8")  # every output can be written as UTF-8
    return unit, findings


text_module = text


# -- the fuzz targets ------------------------------------------------------------------

@settings(max_examples=BUDGET, **FUZZ_SETTINGS)
@given(data=st.data())
def test_fuzz_after_preprocessing(corpus, data):
    tree, catalog, files, units = corpus
    rel, path, original = files[data.draw(st.integers(0, len(files) - 1), label="example")]
    edits = data.draw(mutations(12), label="edits")
    analyse_everything(tree, catalog, units, rel, path, mutate(original, path, edits))


@settings(max_examples=max(4, BUDGET // 6), **FUZZ_SETTINGS)
@given(data=st.data())
def test_fuzz_through_the_preprocessor(corpus, tmp_path_factory, data):
    tree, catalog, files, units = corpus
    rel, path, _ = files[data.draw(st.integers(0, len(files) - 1), label="example")]
    root = tmp_path_factory.mktemp("src") / "tree"
    shutil.copytree(EXAMPLES / "include", root / "include")
    shutil.copy(EXAMPLES / "VERSION", root / "VERSION")
    source = path.read_text()
    marker = f'# 1 "{path}"\n'
    edits = data.draw(mutations(8), label="edits")
    mutated = mutate(marker + source, path, edits)[len(marker):]
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(mutated, encoding="utf-8", errors="surrogatepass")
    pre = Preprocessor(QemuTree.open(root), tmp_path_factory.mktemp("stubs"))
    unit = analyse_file(pre, target)
    assert all(n.kind != "internal" for n in unit.notices)


def test_the_mutator_changes_what_it_is_asked_to(corpus):
    _, _, files, _ = corpus
    rel, path, original = files[0]
    lines, main = _main_lines(original, path)
    assert len(main) > 50 and len(main) < len(lines)
    out = mutate(original, path, [("delete", 0.5, 0.0, "")])
    assert out != original and out.count("\n") == original.count("\n")
    out = mutate(original, path, [("insert", 0.5, 0.5, "@@TOKEN@@")])
    assert "@@TOKEN@@" in out
    # header lines are never touched
    header = [lines[i] for i in range(len(lines)) if i not in set(main)]
    for edits in ([("truncate", 0.9, 0.3, "")], [("swap", 0.1, 0.8, "")]):
        kept = mutate(original, path, edits).split("\n")
        assert all(h in kept for h in header[:200])


# -- every crash found is kept -------------------------------------------------------

def _regressions():
    return sorted(REGRESSIONS.glob("*.c")) if REGRESSIONS.is_dir() else []


@pytest.mark.parametrize("case", _regressions(), ids=lambda p: p.name)
def test_regressions(case, tmp_path, catalog):
    """Each file under tests/regressions/ once crashed lifecheck; it is now
    analysed with the examples' headers, with no internal error."""
    root = tmp_path / "tree"
    shutil.copytree(EXAMPLES, root)
    target = root / "hw" / "misc" / case.name
    shutil.copy(case, target)
    report, internal = run(QemuTree.open(root), [root / "hw"], catalog)
    assert not internal, [n for n in report.notices if n.kind == "internal"]
    expected = (case.with_suffix(".expect").read_text().split()
                if case.with_suffix(".expect").is_file() else [])
    rules = {f.rule for f in report.findings if f.loc.file == f"hw/misc/{case.name}"}
    assert rules == set(expected), case.name
