"""Rules on small device snippets: check(code) == {(slug, line)}.

The snippets use the examples tree's headers (examples/include)."""
from __future__ import annotations

PCI_HEAD = """\
#include "qemu/osdep.h"
#include "hw/pci/pci_device.h"
#include "system/memory.h"
#include "system/address-spaces.h"
#include "qom/object.h"
typedef struct FooState { PCIDevice parent_obj; MemoryRegion io; MemoryRegion box;
                          MemoryRegion al; MemoryRegion *ext; struct Sub *sub; } FooState;
typedef struct Sub { MemoryRegion mr; } Sub;
#define FOO(obj) ((FooState *)(obj))
static const MemoryRegionOps foo_ops;
"""

PCI_TAIL = """
static void foo_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    k->realize = foo_realize;
    k->exit = foo_exit;
}
static const TypeInfo foo_info = {
    .name = "foo", .parent = TYPE_PCI_DEVICE, .instance_size = sizeof(FooState),
    .class_init = foo_class_init, .instance_finalize = foo_finalize,
};
"""


def pci(body: str) -> str:
    """A PCI device whose realize/exit/finalize come from ``body``."""
    return PCI_HEAD + body + PCI_TAIL


def line_of(code: str, needle: str) -> int:
    for i, line in enumerate(code.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


def test_mapping_into_system_memory_without_delete(check_snippet):
    code = pci("""
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    memory_region_init_io(&s->io, OBJECT(s), &foo_ops, s, "io", 16);
    memory_region_add_subregion(get_system_memory(), 0x1000, &s->io); /* HERE */
}
static void foo_exit(PCIDevice *pdev) { }
static void foo_finalize(Object *obj) { }
""")
    assert check_snippet(code) == {("subregion-not-deleted", line_of(code, "/* HERE */"))}


def test_delete_in_a_helper_of_exit_matches_through_aliases(check_snippet):
    code = pci("""
static void foo_unmap(FooState *d) { MemoryRegion *mr = &d->io; memory_region_del_subregion(get_system_memory(), mr); }
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    memory_region_init_io(&s->io, OBJECT(s), &foo_ops, s, "io", 16);
    memory_region_add_subregion(get_system_memory(), 0x1000, &s->io);
}
static void foo_exit(PCIDevice *pdev) { foo_unmap(FOO(pdev)); }
static void foo_finalize(Object *obj) { }
""")
    assert check_snippet(code) == set()


def test_mapping_into_own_container_is_harmless(check_snippet):
    code = pci("""
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    memory_region_init(&s->box, OBJECT(s), "box", 64);
    memory_region_init_io(&s->io, OBJECT(s), &foo_ops, s, "io", 16);
    memory_region_add_subregion(&s->box, 0, &s->io);
    s->sub = g_new0(Sub, 1);
    memory_region_init_io(&s->sub->mr, OBJECT(s), &foo_ops, s, "sub", 16);
    memory_region_add_subregion(&s->box, 16, &s->sub->mr);
    pci_register_bar(pdev, 0, 0, &s->box);
}
static void foo_exit(PCIDevice *pdev) { }
static void foo_finalize(Object *obj) { g_free(FOO(obj)->sub); }
""")
    assert check_snippet(code) == set()


def test_pointer_field_set_from_outside_is_not_owned(check_snippet):
    code = pci("""
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    memory_region_init_io(&s->io, OBJECT(s), &foo_ops, s, "io", 16);
    memory_region_add_subregion(s->ext, 0, &s->io); /* HERE */
}
static void foo_exit(PCIDevice *pdev) { }
static void foo_finalize(Object *obj) { }
""")
    assert check_snippet(code) == {("subregion-not-deleted", line_of(code, "/* HERE */"))}


def test_wrong_phase_releases(check_snippet):
    code = pci("""
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    memory_region_init_io(&s->io, OBJECT(s), &foo_ops, s, "io", 16);
    memory_region_init_alias(&s->al, OBJECT(s), "al", &s->io, 0, 8);
    s->sub = g_new0(Sub, 1);
    memory_region_init_io(&s->sub->mr, OBJECT(s), &foo_ops, s, "sub", 16);
    memory_region_add_subregion(get_system_io(), 0x60, &s->al);
}
static void foo_exit(PCIDevice *pdev)
{
    FooState *s = FOO(pdev);
    object_unparent(OBJECT(&s->al));
    object_unparent(OBJECT(&s->io)); /* UNPARENT */
    g_free(s->sub); /* FREE */
}
static void foo_finalize(Object *obj)
{
    FooState *s = FOO(obj);
    memory_region_del_subregion(get_system_io(), &s->al); /* DEL */
}
""")
    assert check_snippet(code) == {
        ("subregion-not-deleted", line_of(code, "get_system_io(), 0x60")),
        ("freed-in-unrealize", line_of(code, "/* UNPARENT */")),
        ("freed-in-unrealize", line_of(code, "/* FREE */")),
        ("del-subregion-in-finalize", line_of(code, "/* DEL */")),
    }


def test_unparent_in_finalize_depends_on_the_qemu_version(check_snippet):
    code = pci("""
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    memory_region_init_io(&s->io, OBJECT(s), &foo_ops, s, "io", 16);
    pci_register_bar(pdev, 0, 0, &s->io);
}
static void foo_exit(PCIDevice *pdev) { }
static void foo_finalize(Object *obj)
{
    object_unparent(OBJECT(&FOO(obj)->io)); /* HERE */
}
""")
    here = line_of(code, "/* HERE */")
    # 10.1+ docs forbid it: a warning (it breaks the API's documented
    # rules; QOM makes the call a no-op on a detached child today)
    assert check_snippet(code, version="10.2.2", severity=True) == {("unparent-in-finalize", here, "warning")}
    # QOM detached the children already in older trees too, but their
    # memory.rst still advised the call: a note, which does not fail CI
    assert check_snippet(code, version="10.0.13", severity=True) == {("unparent-in-finalize", here, "note")}
    assert check_snippet(code, version="7.2.0", severity=True) == {("unparent-in-finalize", here, "note")}


def test_severity_follows_hot_unplug(tmp_path, catalog):
    from conftest import EXAMPLES, check_tree
    import shutil
    body = """
static void foo_realize(DeviceState *dev, Error **errp)
{
    FooState *s = FOO(dev);
    memory_region_init_io(&s->io, OBJECT(s), &foo_ops, s, "io", 16);
    memory_region_add_subregion(get_system_memory(), 0x1000, &s->io);
}
static void foo_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    dc->realize = foo_realize;
}
static const TypeInfo foo_info = { .name = NAME, .parent = PARENT, .class_init = foo_class_init };
"""
    head = PCI_HEAD.replace('#include "hw/pci/pci_device.h"', '#include "hw/pci/pci_device.h"\n#include "hw/sysbus.h"')
    root = tmp_path / "t"
    shutil.copytree(EXAMPLES / "include", root / "include")
    (root / "VERSION").write_text("10.2.2\n")
    (root / "hw").mkdir()
    (root / "hw" / "a.c").write_text(head + body.replace("PARENT", "TYPE_PCI_DEVICE").replace("NAME", '"foo-pci"'))
    (root / "hw" / "b.c").write_text(head + body.replace("PARENT", "TYPE_SYS_BUS_DEVICE").replace("NAME", '"foo-sysbus"'))
    report = check_tree(root, [root / "hw"], catalog)
    assert {(f.loc.file, f.severity) for f in report.findings} == {("hw/a.c", "error"), ("hw/b.c", "warning")}


def test_framework_table_entries_name_the_qemu_code_that_releases(catalog):
    fw = catalog.tables["framework"]
    assert {m["function"] for m in fw["managed"]} >= {"pci_register_bar", "sysbus_init_mmio"}
    for entry in fw["managed"] + fw["released"]:
        assert entry["phase"] in ("unrealize", "instance_finalize", "board", "runtime"), entry
        path, _, what = entry["released_by"].partition(": ")
        assert path.startswith(("hw/", "qom/", "system/")) and path.endswith(".c"), entry
        assert "(" in what, entry
    for entry in fw["released"]:
        assert entry["resource"].startswith(("self.", "arg")), entry


# -- the rules in two processes --------------------------------------------

def _examples_program(catalog):
    from conftest import EXAMPLES
    from lifecheck.analysis import build_units
    from lifecheck.frontend.tree import QemuTree
    from lifecheck.graph import Program
    tree = QemuTree.open(EXAMPLES)
    units, internal = build_units(tree, sorted((EXAMPLES / "hw").rglob("*.c")), jobs=1)
    assert not internal
    return tree, units


def _as_data(findings):
    return [(f.rule, f.severity, f.loc, f.device, f.function, f.message, f.resource,
             tuple((r.loc, r.message) for r in f.related)) for f in findings]


def test_rules_forked_over_two_processes_find_what_one_finds(catalog, monkeypatch):
    import os
    from lifecheck.graph import Program
    from lifecheck.rules import engine
    tree, units = _examples_program(catalog)
    one, specs = engine.run_rules(Program(units, catalog.tables, catalog.api_functions()),
                                  catalog, tree.version, None, jobs=1)
    assert len(one) > 10
    monkeypatch.setattr(engine, "FORK_MIN_TYPES", 1)
    children = []
    real_fork = os.fork

    def fork():
        pid = real_fork()
        children.append(pid)
        return pid
    monkeypatch.setattr(os, "fork", fork)
    two, specs2 = engine.run_rules(Program(units, catalog.tables, catalog.api_functions()),
                                   catalog, tree.version, None, jobs=2)
    assert len(children) == 1 and children[0] != 0   # this is the parent: a child ran and exited
    assert _as_data(two) == _as_data(one)
    assert [s.slug for s in specs2] == [s.slug for s in specs]


def test_a_forked_child_that_fails_has_its_share_redone(catalog, monkeypatch):
    import os
    from lifecheck.graph import Program
    from lifecheck.rules import engine
    tree, units = _examples_program(catalog)
    one, _ = engine.run_rules(Program(units, catalog.tables, catalog.api_functions()),
                              catalog, tree.version, None, jobs=1)
    monkeypatch.setattr(engine, "FORK_MIN_TYPES", 1)
    parent = os.getpid()
    real = engine._findings_of
    calls = []

    def findings_of(ctx, specs, names, extras):
        if os.getpid() != parent:
            raise MemoryError("the child runs out of memory")
        calls.append(extras)
        return real(ctx, specs, names, extras)
    monkeypatch.setattr(engine, "_findings_of", findings_of)
    two, _ = engine.run_rules(Program(units, catalog.tables, catalog.api_functions()),
                              catalog, tree.version, None, jobs=2)
    assert calls == [False, True]        # its own half, then the child's half and the extras
    assert _as_data(two) == _as_data(one)
