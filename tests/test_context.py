"""A file checked alone is checked with the helpers its neighbours define
(lifecheck/context.py): its findings do not depend on whether the rest
of its folder was named on the command line."""
from __future__ import annotations

import shutil
from pathlib import Path

from conftest import EXAMPLES, check_tree
from test_rules import line_of
from test_rules_lifetime import EMPTY_FINALIZE, EMPTY_INIT, HEAD, TAIL

from lifecheck.context import MAX_CONTEXT, context_files, wanted_calls

# realize keeps what a helper of another file allocates into the device
DEVICE = HEAD + """
void foo_alloc_sub(FooState *s);
""" + EMPTY_INIT + EMPTY_FINALIZE + """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    foo_alloc_sub(FOO(pdev));
}
static void foo_exit(PCIDevice *pdev)
{
}
""" + TAIL

HELPER = """\
#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "hw/pci/pci_device.h"
typedef struct Sub { int x; } Sub;
typedef struct FooState { PCIDevice parent_obj; QEMUTimer *t; QEMUTimer *u; qemu_irq irq;
                          Sub *sub; uint32_t n; uint32_t *arr; QEMUTimer *ts[4]; QEMUTimer et; } FooState;
void foo_alloc_sub(FooState *s)
{
    s->sub = g_new0(Sub, 1); /* HERE */
}
"""


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(EXAMPLES / "include", root / "include")
    (root / "VERSION").write_text("10.2.2\n")
    (root / "hw" / "misc").mkdir(parents=True)
    (root / "hw" / "misc" / "foo.c").write_text(DEVICE)
    (root / "hw" / "misc" / "foo-helpers.c").write_text(HELPER)
    return root


def test_a_file_checked_alone_sees_the_helpers_of_its_folder(tmp_path, catalog):
    root = _tree(tmp_path)
    alone = check_tree(root, [root / "hw/misc/foo.c"], catalog)
    both = check_tree(root, [root / "hw/misc/foo.c", root / "hw/misc/foo-helpers.c"], catalog)
    expected = {("leak-on-unrealize", "hw/misc/foo-helpers.c", line_of(HELPER, "/* HERE */"))}
    assert {(f.rule, f.loc.file, f.loc.line) for f in both.findings} == expected
    assert {(f.rule, f.loc.file, f.loc.line) for f in alone.findings} == expected
    # the report is about the file asked for
    assert alone.analysed_files == ["hw/misc/foo.c"] and alone.files == 1


def test_what_a_neighbour_read_for_context_does_itself_is_not_reported(tmp_path, catalog):
    root = _tree(tmp_path)
    other = HEAD.replace("FooState", "BarState").replace("FOO(", "BAR(") + EMPTY_INIT.replace(
        "foo_", "bar_") + EMPTY_FINALIZE.replace("foo_", "bar_") + """
void foo_alloc_sub(FooState *s);
static void bar_realize(PCIDevice *pdev, Error **errp)
{
    BAR(pdev)->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, pdev);
}
static void bar_exit(PCIDevice *pdev)
{
}
""" + TAIL.replace("foo", "bar").replace("FooState", "BarState")
    (root / "hw" / "misc" / "foo-helpers.c").write_text(HELPER + other.replace(
        '#include "qemu/osdep.h"', "").replace("typedef struct Sub { int x; } Sub;\n", ""))
    both = check_tree(root, [root / "hw/misc/foo.c", root / "hw/misc/foo-helpers.c"], catalog)
    alone = check_tree(root, [root / "hw/misc/foo.c"], catalog)
    assert {f.device for f in both.findings} == {"foo", "bar"}
    assert {f.device for f in alone.findings} == {"foo"}


def test_context_is_the_neighbours_that_define_what_is_called(tmp_path, catalog):
    root = _tree(tmp_path)
    (root / "hw" / "misc" / "unrelated.c").write_text("void unrelated(void)\n{\n}\n")
    (root / "hw" / "core").mkdir()
    (root / "hw" / "core" / "foo-elsewhere.c").write_text("void foo_alloc_sub(void *s)\n{\n}\n")
    skip = set(catalog.opaque_functions())
    assert context_files(root, [root / "hw/misc/foo.c"], skip) == [root / "hw/misc/foo-helpers.c"]
    # a prototype is no definition; a static function is the file's own
    assert wanted_calls([b"static int a(void);\nint b(int x);\nvoid c(void)\n{\n    a(); b(1); d(2);\n}\n"],
                        set()) == {b"b", b"d"}
    (root / "hw" / "misc" / "foo-helpers.c").write_text("void foo_alloc_sub(FooState *s);\n")
    assert context_files(root, [root / "hw/misc/foo.c"], skip) == []
    assert MAX_CONTEXT >= 1
