"""Functions the parser could not read, reached from a lifecycle hook: a
notice of their own (kind "lost-hook-function") naming the hook and the
device type, in every output that shows notices, and counted by --stats."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, REPO, check_tree

HEAD = """\
#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "hw/pci/pci_device.h"
#include "qom/object.h"
typedef struct FooState { PCIDevice parent_obj; QEMUTimer *t; } FooState;
#define FOO(obj) ((FooState *)(obj))
static void foo_tick(void *opaque) { }
"""

# a GNU nested function: pycparser cannot parse the function holding one
LOST_HELPER = """
static void foo_realize_common(FooState *s)
{
    void nested(void) { }
    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s);
}
static void foo_stats(FooState *s)
{
    void nested(void) { }
    s->t = 0;
}
static void foo_debug(FooState *s)
{
    foo_stats(s);
}
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    foo_realize_common(FOO(pdev));
}
static void foo_exit(PCIDevice *pdev)
{
    void nested(void) { }
    timer_free(FOO(pdev)->t);
}
"""

TAIL = """
static void foo_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    k->realize = foo_realize;
    k->exit = foo_exit;
}
static const TypeInfo foo_info = {
    .name = "foo", .parent = TYPE_PCI_DEVICE, .instance_size = sizeof(FooState),
    .class_init = foo_class_init,
};
static const TypeInfo foo_two_info = {
    .name = "foo-two", .parent = "foo",
};
"""

CODE = HEAD + LOST_HELPER + TAIL


def line_of(code: str, needle: str) -> int:
    return next(i for i, line in enumerate(code.splitlines(), 1) if needle in line)


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "tree"
    shutil.copytree(EXAMPLES / "include", root / "include")
    (root / "VERSION").write_text("10.2.2\n")
    src = root / "hw" / "display" / "foo.c"
    src.parent.mkdir(parents=True)
    src.write_text(CODE)
    return root


def lost_notices(report):
    return [(n.file, n.line, n.message) for n in report.notices if n.kind == "lost-hook-function"]


def test_a_lost_function_reached_from_realize_names_the_hook_and_the_device(tree, catalog):
    report = check_tree(tree, [tree / "hw"], catalog)
    assert sorted(lost_notices(report)) == [
        ("hw/display/foo.c", line_of(CODE, "foo_realize_common(FooState *s)"),
         "function foo_realize_common() could not be parsed; device type 'foo' reaches it from its realize hook "
         "(foo_realize): what it acquires or releases is not checked (so do 1 other device type: 'foo-two')"),
        ("hw/display/foo.c", line_of(CODE, "foo_exit(PCIDevice *pdev)"),
         "function foo_exit() could not be parsed; device type 'foo' binds it as its unrealize hook "
         "(PCIDeviceClass.exit): what it acquires or releases is not checked "
         "(so do 1 other device type: 'foo-two')"),
    ]
    # foo_stats() is lost too, but only foo_debug() calls it, and no hook
    # reaches foo_debug()
    parse = [n.line for n in report.notices if n.kind == "parse"]
    assert line_of(CODE, "foo_stats(FooState *s)") in parse


def test_a_lost_hook_overrides_the_parents_hook(tree, catalog):
    from lifecheck.analysis import analyse
    from lifecheck.frontend.tree import QemuTree
    result = analyse(QemuTree.open(tree), [tree / "hw"], catalog, jobs=1)
    dev = result.program.types["foo-two"]
    assert not dev.hooks.get("unrealize")
    assert [r.function for r in dev.lost_hooks["unrealize"]] == [("hw/display/foo.c", "foo_exit")]


def test_the_call_chain_is_named_when_the_lost_function_is_further_down(tmp_path, catalog):
    code = HEAD + """
static void foo_realize_common(FooState *s)
{
    void nested(void) { }
    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s);
}
static void foo_setup(FooState *s) { foo_realize_common(s); }
static void foo_realize(PCIDevice *pdev, Error **errp) { foo_setup(FOO(pdev)); }
static void foo_exit(PCIDevice *pdev) { }
""" + TAIL
    root = tmp_path / "tree"
    shutil.copytree(EXAMPLES / "include", root / "include")
    (root / "VERSION").write_text("10.2.2\n")
    (root / "hw").mkdir()
    (root / "hw" / "foo.c").write_text(code)
    report = check_tree(root, [root / "hw"], catalog)
    assert [m for _, _, m in lost_notices(report)] == [
        "function foo_realize_common() could not be parsed; device type 'foo' reaches it from its realize hook "
        "(foo_realize, through foo_setup): what it acquires or releases is not checked "
        "(so do 1 other device type: 'foo-two')"]


def lifecheck(*args, cwd):
    return subprocess.run([sys.executable, "-m", "lifecheck", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin",
                                            "LIFECHECK_CACHE_DIR": str(Path(cwd).parent / "cache")})


def test_every_output_shows_them_and_stats_counts_them(tree):
    realize_line = line_of(CODE, "foo_realize_common(FooState *s)")
    exit_line = line_of(CODE, "foo_exit(PCIDevice *pdev)")
    # text: on stderr without -v (they change what the findings mean), on
    # stdout with the other notices with -v; --stats counts them apart
    plain = lifecheck("check", "--stats", "hw", cwd=tree)
    assert plain.returncode in (0, 1), plain.stderr
    assert "lost-hook" not in plain.stdout and "could not be parsed" not in plain.stdout
    assert f"lifecheck: hw/display/foo.c:{realize_line}: note: function foo_realize_common() could not be " \
           "parsed; device type 'foo' reaches it from its realize hook (foo_realize)" in plain.stderr
    assert "lifecheck:       2 lost functions reachable from a lifecycle hook (see -v)" in plain.stderr
    verbose = lifecheck("check", "-v", "hw", cwd=tree)
    assert f"hw/display/foo.c:{exit_line}: note: function foo_exit() could not be parsed; device type 'foo' " \
           "binds it as its unrealize hook" in verbose.stdout
    assert "could not be parsed" not in verbose.stderr
    quiet = lifecheck("check", "-q", "hw", cwd=tree)
    assert "could not be parsed" not in quiet.stdout + quiet.stderr
    # json: notices of their kind, and the count in stats
    doc = json.loads(lifecheck("check", "--format", "json", "hw", cwd=tree).stdout)
    lost = [(n["line"], n["message"].split(";")[0]) for n in doc["notices"] if n["kind"] == "lost-hook-function"]
    assert lost == [(realize_line, "function foo_realize_common() could not be parsed"),
                    (exit_line, "function foo_exit() could not be parsed")]
    assert doc["stats"]["lost_functions_reached_from_hooks"] == 2
    # sarif: toolExecutionNotifications, the message as it is
    sarif = json.loads(lifecheck("check", "--format", "sarif", "hw", cwd=tree).stdout)
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    lost = [n for n in notes if n["properties"]["kind"] == "lost-hook-function"]
    assert [n["locations"][0]["physicalLocation"]["region"]["startLine"] for n in lost] == [realize_line, exit_line]
    assert lost[0]["message"]["text"].startswith("function foo_realize_common() could not be parsed; device type "
                                                 "'foo' reaches it from its realize hook (foo_realize)")
