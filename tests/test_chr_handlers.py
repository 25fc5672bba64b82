"""Chardev front-end handlers (rules/api/char.toml chr-handlers,
rules/chr-handlers-not-removed.toml, issue 16): a call of
qemu_chr_fe_set_handlers() is told apart by its arguments (if_args):
with handlers it registers, with NULL ones it removes."""
from __future__ import annotations

import pytest

from lifecheck.rules.catalog import RuleDataError, default_rules_dir, load_catalog
from test_rules import line_of

HEAD = """\
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "chardev/char-fe.h"
#include "qom/object.h"
typedef struct FooState { PCIDevice parent_obj; CharFrontend chr; uint32_t reg; } FooState;
#define FOO(obj) ((FooState *)(obj))
static int foo_can_read(void *opaque) { return 1; }
static void foo_read(void *opaque, const uint8_t *buf, int size) { FOO(opaque)->reg = buf[0]; }
static void foo_init(Object *obj) { }
static const Property foo_props[] = { DEFINE_PROP_CHR("chardev", FooState, chr) };
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    qemu_chr_fe_set_handlers(&s->chr, foo_can_read, foo_read, NULL, NULL, s, NULL, true); /* HERE */
}
"""

TAIL = """
static void foo_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    k->realize = foo_realize;
    k->exit = foo_exit;
    device_class_set_props(dc, foo_props);
}
static const TypeInfo foo_info = {
    .name = "foo", .parent = TYPE_PCI_DEVICE, .instance_size = sizeof(FooState),
    .class_init = foo_class_init, .instance_init = foo_init, .instance_finalize = foo_finalize,
};
"""

NO_FINALIZE = "static void foo_finalize(Object *obj) { }\n"


def dev(body: str) -> str:
    return HEAD + body + TAIL


def test_handlers_left_at_unrealize_are_reported(check_snippet):
    code = dev(NO_FINALIZE + "static void foo_exit(PCIDevice *pdev) { }\n")
    assert check_snippet(code) == {("chr-handlers-not-removed", line_of(code, "/* HERE */"))}


def test_removed_with_null_handlers_in_a_helper_or_by_deinit(check_snippet):
    for removal in ("qemu_chr_fe_set_handlers(&s->chr, NULL, NULL, NULL, NULL, NULL, NULL, false);",
                    "qemu_chr_fe_deinit(&s->chr, false);"):
        code = dev(NO_FINALIZE + """
static void foo_quiesce(FooState *s)
{
    %s
}
static void foo_exit(PCIDevice *pdev)
{
    foo_quiesce(FOO(pdev));
}
""" % removal)
        assert check_snippet(code) == set(), removal


def test_a_call_with_handlers_in_exit_is_no_removal(check_snippet):
    code = dev(NO_FINALIZE + """
static void foo_exit(PCIDevice *pdev)
{
    FooState *s = FOO(pdev);
    qemu_chr_fe_set_handlers(&s->chr, NULL, foo_read, NULL, NULL, s, NULL, false);
}
""")
    assert check_snippet(code) == {("chr-handlers-not-removed", line_of(code, "/* HERE */"))}


def test_removing_them_in_instance_finalize_is_too_late(check_snippet):
    code = dev("""
static void foo_finalize(Object *obj)
{
    qemu_chr_fe_deinit(&FOO(obj)->chr, false);
}
static void foo_exit(PCIDevice *pdev) { }
""")
    assert check_snippet(code) == {("chr-handlers-not-removed", line_of(code, "/* HERE */"))}


def test_if_args_is_checked_on_load(tmp_path):
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "mine.toml").write_text(
        '[[family]]\nname = "mine"\nheader = "include/hw/mine.h"\n'
        'acquire = [ { function = "mine_set", resource = 0, if_args = { nul = [1] } } ]\n'
        'release = [ { function = "mine_set", resource = 0, if_args = { null = "1" } } ]\n')
    with pytest.raises(RuleDataError) as err:
        load_catalog([default_rules_dir(), tmp_path])
    assert "if_args.nul': unknown; allowed: not_null, null" in str(err.value)
