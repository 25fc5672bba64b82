"""The acquire/release rules on small device snippets:
check(code) == {(slug, line)}.  Snippets use examples/include."""
from __future__ import annotations

from test_rules import line_of

HEAD = """\
#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/irq.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "qom/object.h"
typedef struct Sub { int x; } Sub;
typedef struct FooState { PCIDevice parent_obj; QEMUTimer *t; QEMUTimer *u; qemu_irq irq;
                          Sub *sub; uint32_t n; uint32_t *arr; } FooState;
#define FOO(obj) ((FooState *)(obj))
static void foo_tick(void *opaque) { }
bool foo_setup(FooState *s, Error **errp);
void foo_use(Sub *sub);
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
    .class_init = foo_class_init, .instance_init = foo_init, .instance_finalize = foo_finalize,
};
"""

EMPTY_INIT = "static void foo_init(Object *obj) { }\n"
EMPTY_FINALIZE = "static void foo_finalize(Object *obj) { }\n"


def dev(body: str) -> str:
    return HEAD + body + TAIL


# -- leak-on-unrealize ---------------------------------------------------------

def test_timer_stopped_but_not_freed_leaks(check_snippet):
    code = dev(EMPTY_INIT + EMPTY_FINALIZE + """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FOO(pdev)->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, pdev); /* HERE */
}
static void foo_exit(PCIDevice *pdev)
{
    timer_del(FOO(pdev)->t);
}
""")
    assert check_snippet(code, severity=True) == {("leak-on-unrealize", line_of(code, "/* HERE */"), "error")}


def test_release_in_finalize_or_in_a_helper_counts(check_snippet):
    code = dev(EMPTY_INIT + """
static void foo_release_timers(FooState *s)
{
    timer_free(s->u);
}
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s);
    s->u = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s);
}
static void foo_exit(PCIDevice *pdev)
{
    foo_release_timers(FOO(pdev));
}
static void foo_finalize(Object *obj)
{
    timer_free(FOO(obj)->t);
}
""")
    assert check_snippet(code) == set()


def test_resource_handed_to_code_lifecheck_cannot_see_is_not_reported(check_snippet):
    code = dev(EMPTY_INIT + EMPTY_FINALIZE + """
void foo_lib_teardown(QEMUTimer *t);
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FOO(pdev)->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, pdev);
}
static void foo_exit(PCIDevice *pdev)
{
    foo_lib_teardown(FOO(pdev)->t);
}
""")
    assert check_snippet(code) == set()


def test_array_property_must_be_freed_by_the_device(check_snippet):
    body = EMPTY_INIT + """
static void foo_realize(PCIDevice *pdev, Error **errp) { }
static void foo_exit(PCIDevice *pdev) { }
static const Property foo_props[] = {
    DEFINE_PROP_ARRAY("arr", FooState, n, arr, qdev_prop_uint32, uint32_t), /* HERE */
};
static void foo_props_init(ObjectClass *klass, const void *data)
{
    device_class_set_props(DEVICE_CLASS(klass), foo_props);
}
"""
    code = dev(EMPTY_FINALIZE + body).replace(".class_init = foo_class_init,",
                                              ".class_init = foo_class_init2,")
    code += """
static void foo_class_init2(ObjectClass *klass, const void *data)
{
    foo_class_init(klass, data);
    foo_props_init(klass, data);
}
"""
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}
    fixed = code.replace(EMPTY_FINALIZE, "static void foo_finalize(Object *obj) { g_free(FOO(obj)->arr); }\n")
    assert check_snippet(fixed) == set()


# -- init-leak -----------------------------------------------------------------

def test_init_leak_needs_the_release_in_finalize_not_unrealize(check_snippet):
    code = dev(EMPTY_FINALIZE + """
static const VMStateDescription vmstate_foo = { .name = "foo" };
static void foo_init(Object *obj)
{
    FooState *s = FOO(obj);
    s->irq = qemu_allocate_irq(NULL, s, 0); /* IRQ */
    vmstate_register(VMSTATE_IF(s), -1, &vmstate_foo, s); /* VMSD */
    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s);
}
static void foo_realize(PCIDevice *pdev, Error **errp) { }
static void foo_exit(PCIDevice *pdev)
{
    qemu_free_irq(FOO(pdev)->irq);
}
""")
    code = code.replace(EMPTY_FINALIZE, "static void foo_finalize(Object *obj) { timer_free(FOO(obj)->t); }\n")
    assert check_snippet(code, severity=True) == {
        ("init-leak", line_of(code, "/* IRQ */"), "error"),
        ("init-leak", line_of(code, "/* VMSD */"), "error"),
    }


# -- realize-error-leak --------------------------------------------------------

def test_error_exit_after_acquiring_leaks_unless_the_path_releases(check_snippet):
    code = dev(EMPTY_INIT + """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    Error *local_err = NULL;

    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s); /* LEAKS */
    s->u = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s);
    if (!foo_setup(s, &local_err)) {
        error_propagate(errp, local_err);
        goto fail;
    }
    s->irq = pci_allocate_irq(pdev);
    return;

fail:
    timer_free(s->u);
}
static void foo_exit(PCIDevice *pdev)
{
    FooState *s = FOO(pdev);
    timer_free(s->t);
    timer_free(s->u);
    qemu_free_irq(s->irq);
}
""" + EMPTY_FINALIZE)
    assert check_snippet(code) == {("realize-error-leak", line_of(code, "/* LEAKS */"))}


def test_success_paths_through_a_shared_label_are_not_error_paths(check_snippet):
    code = dev(EMPTY_INIT + """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);

    if (!errp) {
        errp = NULL;
    }
    if (!foo_setup(s, errp)) {
        goto out;
    }
    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s);
out:
    return;
}
static void foo_exit(PCIDevice *pdev)
{
    timer_free(FOO(pdev)->t);
}
""" + EMPTY_FINALIZE)
    assert check_snippet(code) == set()


def test_object_whose_realize_fails_is_dropped(check_snippet):
    code = dev(EMPTY_INIT + EMPTY_FINALIZE + """
static void foo_realize(PCIDevice *pdev, Error **errp) { }
static void foo_exit(PCIDevice *pdev) { }
DeviceState *foo_make_child(BusState *bus, Error **errp)
{
    DeviceState *child = qdev_new("foo-child"); /* LEAKS */
    if (!qdev_realize(child, bus, errp)) {
        return NULL;
    }
    return child;
}
DeviceState *foo_make_child_ok(BusState *bus, Error **errp)
{
    DeviceState *child = qdev_new("foo-child");
    if (!qdev_realize(child, bus, errp)) {
        object_unref(OBJECT(child));
        return NULL;
    }
    return child;
}
""")
    assert check_snippet(code) == {("realize-error-leak", line_of(code, "/* LEAKS */"))}


# -- double-release / use-after-release ----------------------------------------

def test_release_in_each_branch_is_not_double(check_snippet):
    code = dev(EMPTY_INIT + """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FOO(pdev)->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, pdev);
}
static void foo_exit(PCIDevice *pdev)
{
    FooState *s = FOO(pdev);
    if (s->n) {
        timer_free(s->t);
    } else {
        timer_free(s->t);
    }
}
""" + EMPTY_FINALIZE)
    assert check_snippet(code) == set()


def test_release_in_exit_and_finalize_is_double_unless_cleared(check_snippet):
    code = dev(EMPTY_INIT + """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s);
    s->sub = g_new0(Sub, 1);
}
static void foo_exit(PCIDevice *pdev)
{
    FooState *s = FOO(pdev);
    timer_free(s->t);
    g_free(s->sub);
    foo_use(s->sub); /* USE */
}
static void foo_finalize(Object *obj)
{
    timer_free(FOO(obj)->t); /* AGAIN */
}
""")
    assert check_snippet(code) == {
        ("double-release", line_of(code, "/* AGAIN */")),
        ("use-after-release", line_of(code, "/* USE */")),
    }
    cleared = code.replace("    timer_free(s->t);\n", "    timer_free(s->t);\n    s->t = NULL;\n")
    assert check_snippet(cleared) == {("use-after-release", line_of(cleared, "/* USE */"))}


def test_the_acquire_whose_failure_is_tested_acquired_nothing(check_snippet):
    code = dev(EMPTY_INIT + EMPTY_FINALIZE + """
static const VMStateDescription vmstate_foo = { .name = "foo" };
static const VMStateDescription vmstate_bar = { .name = "bar" };
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    int ret;

    if (vmstate_register(VMSTATE_IF(s), -1, &vmstate_foo, s) < 0) {
        error_setg(errp, "no vmstate");
        return;
    }
    ret = vmstate_register(VMSTATE_IF(s), -1, &vmstate_bar, s); /* LEAKS */
    if (ret < 0) {
        error_setg(errp, "no vmstate");
        vmstate_unregister(VMSTATE_IF(s), &vmstate_foo, s);
        return;
    }
    if (s->n > 4) {
        error_setg(errp, "too many");
        vmstate_unregister(VMSTATE_IF(s), &vmstate_foo, s);
        return;
    }
}
static void foo_exit(PCIDevice *pdev)
{
    vmstate_unregister(VMSTATE_IF(pdev), &vmstate_foo, pdev);
    vmstate_unregister(VMSTATE_IF(pdev), &vmstate_bar, pdev);
}
""")
    # the first two error exits follow the failing registration itself; the
    # third leaves vmstate_bar registered
    assert check_snippet(code) == {("realize-error-leak", line_of(code, "/* LEAKS */"))}
