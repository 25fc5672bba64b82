"""strong-link-to-parent and region-owner-not-device on small device
snippets: check(code) == {(slug, line)}.  Snippets use examples/include."""
from __future__ import annotations

from test_rules import line_of

LINK = "strong-link-to-parent"
OWNER = "region-owner-not-device"

HEAD = """\
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-core.h"
#include "hw/qdev-properties.h"
#include "system/memory.h"
#include "qom/object.h"
typedef struct Core { DeviceState parent_obj; DeviceState *host; Object *peer; Object *up; } Core;
typedef struct FooState { PCIDevice parent_obj; Core core; Core other; MemoryRegion mmio;
                          MemoryRegion alias; MemoryRegion ram; Object *linked; } FooState;
#define FOO(obj) ((FooState *)(obj))
#define CORE(obj) ((Core *)(obj))
static const MemoryRegionOps foo_ops;
static const Property core_props[] = {
    DEFINE_PROP_LINK("host", Core, host, TYPE_DEVICE, DeviceState *),
};
static void core_init(Object *obj)
{
    Core *c = CORE(obj);
    object_property_add_link(obj, "peer", TYPE_DEVICE, &c->peer, object_property_allow_set_link, 0);
}
static void core_class_init(ObjectClass *klass, const void *data)
{
    device_class_set_props(DEVICE_CLASS(klass), core_props);
}
static const TypeInfo core_info = {
    .name = "core", .parent = TYPE_DEVICE, .instance_size = sizeof(Core),
    .instance_init = core_init, .class_init = core_class_init,
};
static void foo_init(Object *obj)
{
    FooState *s = FOO(obj);
    object_initialize_child(obj, "core", &s->core, "core");
    object_initialize_child(obj, "other", &s->other, "core");
}
"""

TAIL = """
static const Property foo_props[] = {
    DEFINE_PROP_LINK("linked", FooState, linked, TYPE_DEVICE, Object *),
};
static void foo_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    k->realize = foo_realize;
    k->exit = foo_exit;
    device_class_set_props(DEVICE_CLASS(klass), foo_props);
}
static const TypeInfo foo_info = {
    .name = "foo", .parent = TYPE_PCI_DEVICE, .instance_size = sizeof(FooState),
    .class_init = foo_class_init, .instance_init = foo_init, .instance_finalize = foo_finalize,
};
"""


def _code(realize: str, exit_body: str = "", finalize: str = "") -> str:
    return (HEAD + "static void foo_realize(PCIDevice *pdev, Error **errp)\n{\n    FooState *s = FOO(pdev);\n"
            + realize + "}\nstatic void foo_exit(PCIDevice *pdev)\n{\n    FooState *s = FOO(pdev);\n"
            + exit_body + "}\nstatic void foo_finalize(Object *obj)\n{\n    FooState *s = FOO(obj);\n"
            + finalize + "}\n" + TAIL)


def _only(found, slug):
    return {f for f in found if f[0] == slug}


SET_HOST = '    object_property_set_link(OBJECT(&s->core), "host", OBJECT(s), NULL);\n'


def test_a_strong_link_from_a_child_to_its_parent_is_reported_at_the_setter(check_snippet):
    code = _code(SET_HOST)
    assert _only(check_snippet(code, severity=True), LINK) == {(LINK, line_of(code, '"host", OBJECT(s)'), "error")}


def test_a_link_the_child_adds_without_the_strong_flag_takes_no_reference(check_snippet):
    code = _code('    object_property_set_link(OBJECT(&s->core), "peer", OBJECT(s), NULL);\n')
    assert _only(check_snippet(code), LINK) == set()


def test_a_link_the_device_adds_to_its_child_with_the_strong_flag_is_strong(check_snippet):
    code = _code('    object_property_add_link(OBJECT(&s->core), "up", TYPE_DEVICE, &s->core.up, '
                 'object_property_allow_set_link, OBJ_PROP_LINK_STRONG);\n'
                 '    object_property_set_link(OBJECT(&s->core), "up", OBJECT(s), NULL);\n')
    assert _only(check_snippet(code), LINK) == {(LINK, line_of(code, '"up", OBJECT(s)'))}


def test_a_link_cleared_or_a_child_unparented_in_unrealize_breaks_the_cycle(check_snippet):
    cleared = _code(SET_HOST, '    qdev_unrealize(DEVICE(&s->core));\n'
                              '    object_property_set_link(OBJECT(&s->core), "host", NULL, &error_abort);\n')
    assert _only(check_snippet(cleared), LINK) == set()
    unparented = _code(SET_HOST, '    object_unparent(OBJECT(&s->core));\n')
    assert _only(check_snippet(unparented, name="hw/misc/snippet2.c"), LINK) == set()


def test_clearing_the_link_in_instance_finalize_is_too_late(check_snippet):
    # finalize never runs while the child holds its reference
    code = _code(SET_HOST, "", '    object_property_set_link(OBJECT(&s->core), "host", NULL, &error_abort);\n')
    assert _only(check_snippet(code), LINK) == {(LINK, line_of(code, '"host", OBJECT(s)'))}


def test_a_link_to_a_sibling_or_to_another_object_is_no_cycle(check_snippet):
    code = _code('    object_property_set_link(OBJECT(&s->core), "host", OBJECT(&s->other), NULL);\n'
                 '    object_property_set_link(OBJECT(&s->core), "host", s->linked, NULL);\n')
    assert _only(check_snippet(code), LINK) == set()


def test_regions_of_the_device_state_owned_by_another_object_are_reported(check_snippet):
    code = _code('    memory_region_init_io(&s->mmio, NULL, &foo_ops, s, "foo.mmio", 0x100);\n'
                 '    memory_region_init_ram(&s->ram, s->linked, "foo.ram", 0x1000, errp);\n'
                 '    memory_region_init_alias(&s->alias, OBJECT(&s->core), "foo.alias", &s->ram, 0, 0x100);\n')
    assert _only(check_snippet(code, severity=True), OWNER) == {
        (OWNER, line_of(code, "&s->mmio, NULL"), "error"),
        (OWNER, line_of(code, "&s->ram, s->linked"), "error"),
    }


def test_owner_of_another_region_of_the_device_is_the_device(check_snippet):
    code = _code('    memory_region_init_io(&s->mmio, OBJECT(s), &foo_ops, s, "foo.mmio", 0x100);\n'
                 '    memory_region_init_alias(&s->alias, memory_region_owner(&s->mmio), "foo.alias", '
                 '&s->mmio, 0, 0x10);\n')
    assert _only(check_snippet(code), OWNER) == set()


def test_a_region_the_device_unparents_itself_is_left_to_other_rules(check_snippet):
    code = _code('    memory_region_init_alias(&s->alias, NULL, "foo.alias", &s->mmio, 0, 0x10);\n',
                 '    object_unparent(OBJECT(&s->alias));\n')
    assert _only(check_snippet(code), OWNER) == set()


def test_unmapping_the_region_in_unrealize_does_not_destroy_it(check_snippet):
    code = _code('    memory_region_init_io(&s->mmio, NULL, &foo_ops, s, "foo.mmio", 0x100);\n'
                 '    memory_region_add_subregion(pci_address_space(pdev), 0x1000, &s->mmio);\n',
                 '    memory_region_del_subregion(pci_address_space(pdev), &s->mmio);\n')
    assert _only(check_snippet(code), OWNER) == {(OWNER, line_of(code, "&s->mmio, NULL"))}
