"""The acquire/release rules on small device snippets:
check(code) == {(slug, line)}.  Snippets use examples/include."""
from __future__ import annotations

import shutil

from conftest import EXAMPLES, check_tree
from lifecheck.rules.catalog import default_rules_dir, load_catalog
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
                          Sub *sub; uint32_t n; uint32_t *arr; QEMUTimer *ts[4]; QEMUTimer et; } FooState;
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
    # stopped on unrealize: its memory leaks on every unplug, but it
    # cannot fire into the freed device (a warning, not a use after free)
    assert check_snippet(code, severity=True) == {("leak-on-unrealize", line_of(code, "/* HERE */"), "warning")}


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


def test_a_release_only_an_error_exit_makes_does_not_hide_the_leak(check_snippet):
    """The goto ladder of realize frees the timer when a later step fails;
    unrealize forgets it: a leak on every unplug (seeded-bug class "a
    release outside teardown satisfies the leak rule")."""
    code = dev(EMPTY_INIT + EMPTY_FINALIZE + """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s); /* HERE */
    if (!foo_setup(s, errp)) {
        goto fail;
    }
    return;
fail:
    timer_free(s->t);
}
static void foo_exit(PCIDevice *pdev)
{
}
""")
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}
    # a release on realize's success path still counts (a temporary buffer)
    ok = code.replace("    return;\nfail:\n    timer_free(s->t);", "    timer_free(s->t);\n    return;\nfail:\n    timer_free(s->t);")
    assert ok != code and check_snippet(ok) == set()


def test_a_trace_point_or_a_query_is_no_release(check_snippet):
    """Teardown that only traces the timer, or asks about it, does not hand
    it to code that could release it."""
    code = dev(EMPTY_INIT + EMPTY_FINALIZE + """
void trace_foo_exit(QEMUTimer *t);
bool foo_timer_is_armed(QEMUTimer *t);
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FOO(pdev)->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, pdev); /* HERE */
}
static void foo_exit(PCIDevice *pdev)
{
    trace_foo_exit(FOO(pdev)->t);
    if (foo_timer_is_armed(FOO(pdev)->t)) {
        return;
    }
}
""")
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}


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
    # the irq leaks per introspection (a warning); the vmstate entry
    # dangles after it (a use after free at the next migration: an error)
    assert check_snippet(code, severity=True) == {
        ("init-leak", line_of(code, "/* IRQ */"), "warning"),
        ("init-leak", line_of(code, "/* VMSD */"), "error"),
    }


def test_an_embedded_timer_set_up_in_init_is_teardowns_not_introspections(check_snippet):
    # timer_init_ns() allocates nothing: an object created and finalized
    # without realize leaves nothing behind (no init-leak); armed once the
    # device is realized, unplug must stop it (leak-on-unrealize)
    code = dev(EMPTY_FINALIZE + """
static void foo_init(Object *obj)
{
    FooState *s = FOO(obj);
    timer_init_ns(&s->et, QEMU_CLOCK_VIRTUAL, foo_tick, s); /* ET */
}
static void foo_realize(PCIDevice *pdev, Error **errp) { }
static void foo_exit(PCIDevice *pdev)
{
}
""")
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* ET */"))}
    fixed = code.replace("static void foo_exit(PCIDevice *pdev)\n{\n",
                         "static void foo_exit(PCIDevice *pdev)\n{\n    timer_del(&FOO(pdev)->et);\n")
    assert check_snippet(fixed) == set()


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



CAPABILITY = """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    int off;

    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s); /* ACQUIRED */
    off = pci_add_capability(pdev, 0x12, OFFSET, 8, errp);
    if (off < 0) {
        return;
    }
}
static void foo_exit(PCIDevice *pdev)
{
    timer_free(FOO(pdev)->t);
}
"""


def test_the_failure_of_a_call_that_cannot_fail_is_never_taken(check_snippet):
    # pci_add_capability() at a fixed offset fails only when the device
    # overlaps its own capabilities (rules/api/pci.toml never_if_constant):
    # the exit is never taken; at an offset read from elsewhere it can be
    fixed = dev(EMPTY_INIT + CAPABILITY.replace("OFFSET", "0xa8") + EMPTY_FINALIZE)
    assert check_snippet(fixed) == set()
    computed = dev(EMPTY_INIT + CAPABILITY.replace("OFFSET", "s->n") + EMPTY_FINALIZE)
    assert check_snippet(computed) == {("realize-error-leak", line_of(computed, "/* ACQUIRED */"))}


UNCHECKED = """
static void foo_load(FooState *s, Error **errp)
{
    if (s->n > 4) {
        error_setg(errp, "too many");
        return;
    }
    s->n++;
}
static void foo_count(FooState *s, Error **errp)
{
    s->n++;
}
static void foo_exit(PCIDevice *pdev)
{
    timer_free(FOO(pdev)->t);
}
"""


def test_a_last_call_that_can_fail_unchecked_is_an_error_exit(check_snippet):
    # realize ends with foo_load(s, errp), which sets errp on a path: when
    # it fails, realize fails with the timer still held
    code = dev(EMPTY_INIT + EMPTY_FINALIZE + UNCHECKED + """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);

    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s); /* LEAKS */
    foo_load(s, errp);
}
""")
    assert check_snippet(code) == {("realize-error-leak", line_of(code, "/* LEAKS */"))}


def test_an_unchecked_last_call_that_cannot_fail_is_no_error_exit(check_snippet):
    # foo_count() takes errp but never sets it; foo_setup() has no body
    # lifecheck sees: neither is taken to fail
    code = dev(EMPTY_INIT + EMPTY_FINALIZE + UNCHECKED + """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);

    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s);
    foo_count(s, errp);
}
""")
    assert check_snippet(code) == set()
    code = dev(EMPTY_INIT + EMPTY_FINALIZE + UNCHECKED + """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);

    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s);
    foo_setup(s, errp);
}
""")
    assert check_snippet(code) == set()


def test_an_unchecked_call_in_a_helper_leaves_the_exit_to_its_caller(check_snippet):
    # the helper passes the failure on; realize checks errp afterwards and
    # releases on that exit
    code = dev(EMPTY_INIT + EMPTY_FINALIZE + UNCHECKED + """
static void foo_start(FooState *s, Error **errp)
{
    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s);
    foo_load(s, errp);
}
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    Error *local_err = NULL;

    foo_start(s, &local_err);
    if (local_err) {
        timer_free(s->t);
        error_propagate(errp, local_err);
        return;
    }
}
""")
    assert check_snippet(code) == set()


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


def test_registration_removed_in_exit_and_finalize_is_double_unless_idempotent(check_snippet):
    # qemu_del_vm_change_state_handler() unlinks and frees its entry: twice is
    # a bug; timer_del() of an embedded timer searches the list: twice is not
    code = dev(EMPTY_INIT + """
#include "system/runstate.h"
typedef struct BarState { FooState parent; VMChangeStateEntry *vmse; QEMUTimer beat; } BarState;
static void foo_vm_state(void *opaque, bool running, RunState state) { }
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    BarState *b = (BarState *)pdev;
    b->vmse = qemu_add_vm_change_state_handler(foo_vm_state, b);
    timer_init_ms(&b->beat, QEMU_CLOCK_VIRTUAL, foo_tick, b);
}
static void foo_exit(PCIDevice *pdev)
{
    BarState *b = (BarState *)pdev;
    qemu_del_vm_change_state_handler(b->vmse);
    timer_del(&b->beat);
}
static void foo_finalize(Object *obj)
{
    BarState *b = (BarState *)obj;
    qemu_del_vm_change_state_handler(b->vmse); /* AGAIN */
    timer_del(&b->beat);
}
""")
    assert check_snippet(code, severity=True) == {("double-release", line_of(code, "/* AGAIN */"), "error")}


def test_same_name_through_two_struct_types_is_two_fields(check_snippet):
    # a subtype's own field and its parent's field of the same name have the
    # same access path (QOM casts are transparent): the struct types the
    # releases go through tell them apart (vhost-vdpa-device's config and
    # VirtIODevice's, hw/virtio/virtio.c virtio_device_instance_finalize())
    code = dev(EMPTY_INIT + """
typedef struct Base { PCIDevice parent_obj; uint8_t *config; } Base;
typedef struct Sub2 { Base parent_obj; uint8_t *config; } Sub2;
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    Sub2 *s = (Sub2 *)pdev;
    Base *b = (Base *)pdev;
    s->config = g_malloc0(16);
    b->config = g_malloc0(16);
}
static void foo_exit(PCIDevice *pdev)
{
    Sub2 *s = (Sub2 *)pdev;
    g_free(s->config);
}
static void foo_finalize(Object *obj)
{
    Base *b = (Base *)obj;
    g_free(b->config); /* AGAIN */
}
""")
    assert check_snippet(code) == set()
    same = code.replace("    Base *b = (Base *)obj;\n    g_free(b->config); /* AGAIN */",
                        "    Sub2 *b = (Sub2 *)obj;\n    g_free(b->config); /* AGAIN */")
    assert check_snippet(same) == {("double-release", line_of(same, "/* AGAIN */"))}


def test_release_of_the_device_itself_twice_is_double(check_snippet):
    # virtio_cleanup(vdev) deletes the VM change state handler virtio_init()
    # registered for the device: keyed on the device, not on a field
    code = dev(EMPTY_INIT + """
#include "hw/virtio/virtio.h"
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    virtio_init(VIRTIO_DEVICE(pdev), 1, 0);
}
static void foo_exit(PCIDevice *pdev)
{
    virtio_cleanup(VIRTIO_DEVICE(pdev));
}
static void foo_finalize(Object *obj)
{
    virtio_cleanup(VIRTIO_DEVICE(obj)); /* AGAIN */
}
""")
    assert check_snippet(code) == {("double-release", line_of(code, "/* AGAIN */"))}
    once = code.replace("    virtio_cleanup(VIRTIO_DEVICE(obj)); /* AGAIN */\n", "")
    assert check_snippet(once) == set()


# a family of two releases: one harmful to repeat, one idempotent
PORT_API = """
[[family]]
name = "foo-port"
header = "include/hw/misc/foo-port.h"
summary = "a port"
must_release = true
acquire = [
  { function = "foo_port_open", resource = 0 },
]
release = [
  { function = "foo_port_close", resource = 0 },
  # idempotent: hw/misc/foo-port.c foo_port_forget() checks and clears
  { function = "foo_port_forget", resource = 0, attrs = ["idempotent"] },
]
"""

PORT_DEVICE = EMPTY_INIT + """
void foo_port_open(uint32_t *port);
void foo_port_close(uint32_t *port);
void foo_port_forget(uint32_t *port);
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    foo_port_open(&FOO(pdev)->n);
}
static void foo_exit(PCIDevice *pdev)
{
    %s(&FOO(pdev)->n);
}
static void foo_finalize(Object *obj)
{
    %s(&FOO(obj)->n); /* SECOND */
}
"""


def test_an_idempotent_call_is_harmless_second_not_first(tmp_path):
    extra = tmp_path / "rules"
    (extra / "api").mkdir(parents=True)
    (extra / "api" / "port.toml").write_text(PORT_API)
    catalog = load_catalog([default_rules_dir(), extra])
    root = tmp_path / "tree"
    shutil.copytree(EXAMPLES / "include", root / "include")
    (root / "VERSION").write_text("10.2.2\n")

    def check(first, second):
        src = root / "hw" / "misc" / f"{first}-{second}.c"
        src.parent.mkdir(parents=True, exist_ok=True)
        code = dev(PORT_DEVICE % (first, second))
        src.write_text(code)
        found = {(f.rule, f.loc.line) for f in check_tree(root, [src], catalog).findings}
        return found, line_of(code, "/* SECOND */")

    found, line = check("foo_port_close", "foo_port_close")
    assert found == {("double-release", line)}
    found, line = check("foo_port_forget", "foo_port_close")    # close after forget: a bug
    assert found == {("double-release", line)}
    found, _ = check("foo_port_close", "foo_port_forget")       # forget after close: harmless
    assert found == set()
    found, _ = check("foo_port_forget", "foo_port_forget")
    assert found == set()


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


# -- path precision ----------------------------------------------------------

# realize's error exit frees the timer under a test (%s); exit frees it
FREED_UNDER_TEST = """
    if (!foo_setup(s, errp)) {
        goto fail;
    }
    return;
fail:
    if (%s) {
        timer_free(s->t);
    }
}
static void foo_exit(PCIDevice *pdev)
{
    timer_free(FOO(pdev)->t);
}
"""

CORRELATED = EMPTY_INIT + EMPTY_FINALIZE + """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    if (!s->n) {
        s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s); /* HERE */
    }""" + FREED_UNDER_TEST


def test_the_same_test_goes_the_same_way_on_one_path(check_snippet):
    """The timer is made and freed under the same test of a value the
    function never changes: no path acquires it and skips the release."""
    assert check_snippet(dev(CORRELATED % "!s->n")) == set()


def test_a_different_test_does_not_agree(check_snippet):
    code = dev(CORRELATED % "s->n")
    assert check_snippet(code) == {("realize-error-leak", line_of(code, "/* HERE */"))}


LOOP = EMPTY_INIT + EMPTY_FINALIZE + """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    int i;
    for (i = 0; i < 4; i++) {
        s->ts[i] = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s); /* HERE */
    }
    if (!foo_setup(s, errp)) {
        goto fail;
    }
    return;
fail:
%s
}
static void foo_exit(PCIDevice *pdev)
{
    int i;
    for (i = 0; i < 4; i++) {
        timer_free(FOO(pdev)->ts[i]);
    }
}
"""


def test_array_elements_released_in_a_loop_on_the_error_path(check_snippet):
    """The loop's zero-iteration path skips the release; elements acquired
    in a loop and released in a loop before the exit are not reported."""
    code = dev(LOOP % "    for (i = 0; i < 4; i++) {\n        timer_free(s->ts[i]);\n    }")
    assert check_snippet(code) == set()


def test_array_elements_not_released_on_the_error_path(check_snippet):
    code = dev(LOOP % "    return;")
    assert check_snippet(code) == {("realize-error-leak", line_of(code, "/* HERE */"))}


def test_what_realize_cannot_reach_is_not_its_acquisition(check_snippet):
    """msix_enabled() is false while realizing (the guest enables MSI-X):
    a helper's work under it does not happen in realize."""
    code = dev(EMPTY_INIT + EMPTY_FINALIZE + """
bool msix_enabled(PCIDevice *dev);
static void foo_connect(FooState *s)
{
    if (msix_enabled(&s->parent_obj)) {
        s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s);
    }
    s->u = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s); /* HERE */
}
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    foo_connect(FOO(pdev));
}
static void foo_exit(PCIDevice *pdev)
{
}
""")
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}


def test_a_process_wide_singleton_is_not_device_state(check_snippet):
    code = dev(EMPTY_INIT + EMPTY_FINALIZE + """
static GHashTable *foo_registry;
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    if (!foo_registry) {
        foo_registry = g_hash_table_new(NULL, NULL);
    }
    FOO(pdev)->arr = g_new0(uint32_t, 4); /* HERE */
}
static void foo_exit(PCIDevice *pdev)
{
}
""")
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}


def test_state_stored_in_a_linked_object_is_not_the_devices(check_snippet):
    """DEFINE_PROP_LINK: the linked object outlives the device; what the
    device stores inside it (``s->sub->...``) is the object's."""
    code = HEAD + EMPTY_INIT + EMPTY_FINALIZE + """
typedef struct Peer { char *serial; } Peer;
typedef struct BarState { PCIDevice parent_obj; Peer *peer; char *own; } BarState;
static void bar_realize(PCIDevice *pdev, Error **errp)
{
    BarState *s = (BarState *)pdev;
    if (!s->peer->serial) {
        s->peer->serial = g_strdup("x");
    }
    s->own = g_strdup("y"); /* HERE */
}
static const Property bar_props[] = {
    DEFINE_PROP_LINK("peer", BarState, peer, "peer-type", Peer *),
};
static void bar_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    k->realize = bar_realize;
    device_class_set_props(DEVICE_CLASS(klass), bar_props);
}
static const TypeInfo bar_info = {
    .name = "bar", .parent = TYPE_PCI_DEVICE, .instance_size = sizeof(BarState),
    .class_init = bar_class_init,
};
"""
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}


NEVER_SET = EMPTY_FINALIZE + """
static void foo_init(Object *obj)
{
    %s
}
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    if (s->n) {
        s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s); /* HERE */
    }
}
static void foo_exit(PCIDevice *pdev)
{
}
"""


def test_a_branch_on_a_field_nothing_sets_is_dead_in_realize(check_snippet):
    """No code writes s->n and no property of the type sets it: it is
    still zero when realize tests it."""
    assert check_snippet(dev(NEVER_SET % "")) == set()


def test_a_branch_on_a_field_something_sets_is_followed(check_snippet):
    code = dev(NEVER_SET % "FOO(obj)->n = 4;")
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}


HELPER_GUARD = """
static void foo_init(Object *obj)
{
    FOO(obj)->n = 1;
}
static void foo_finalize(Object *obj) { }
static void foo_setup_timer(FooState *s)
{
    if (s->n) {
        s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s); /* HERE */
    }
}
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    foo_setup_timer(s);""" + FREED_UNDER_TEST


def test_what_a_helper_acquires_under_a_test_follows_that_test(check_snippet):
    """The helper makes the timer only when s->n; realize's error path
    frees it under the same test."""
    assert check_snippet(dev(HELPER_GUARD % "s->n")) == set()


def test_what_a_helper_acquires_under_a_test_leaks_under_another(check_snippet):
    code = dev(HELPER_GUARD % "s->u")
    assert check_snippet(code) == {("realize-error-leak", line_of(code, "/* HERE */"))}


NEVER_SET_EXIT = """
static void foo_init(Object *obj)
{
    %s
}
static void foo_finalize(Object *obj) { }
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s); /* HERE */
    if (s->sub) {
        error_setg(errp, "no sub-unit");
        return;
    }
}
static void foo_exit(PCIDevice *pdev)
{
    timer_free(FOO(pdev)->t);
}
"""


def test_an_error_exit_under_a_field_nothing_sets_is_not_taken(check_snippet):
    assert check_snippet(dev(NEVER_SET_EXIT % "")) == set()


def test_an_error_exit_under_a_field_something_sets_is_taken(check_snippet):
    code = dev(NEVER_SET_EXIT % "FOO(obj)->sub = g_new0(Sub, 1);")
    got = check_snippet(code)
    assert ("realize-error-leak", line_of(code, "/* HERE */")) in got


def test_a_retry_loop_retries_because_the_call_failed(check_snippet):
    """``do { ret = connect(errp); } while (ret < 0 && retries--)``: each
    retry follows a failed attempt, which acquired nothing (a failing call
    undoes its own work); only the last attempt's failure is the exit's."""
    code = dev(EMPTY_INIT + EMPTY_FINALIZE + """
int foo_connect(FooState *s, Error **errp);
static int foo_try(FooState *s, Error **errp)
{
    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s);
    return foo_connect(s, errp);
}
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    int ret, retries = 3;
    do {
        if (*errp) {
            error_report_err(*errp);
            *errp = NULL;
        }
        ret = foo_try(s, errp);
    } while (ret < 0 && retries--);
    if (ret < 0) {
        return;
    }
}
static void foo_exit(PCIDevice *pdev)
{
    timer_free(FOO(pdev)->t);
}
""")
    assert check_snippet(code) == set()


PARENT_PROPERTY = HEAD + """
typedef struct BarCommon { PCIDevice parent_obj; uint32_t *map; } BarCommon;
typedef struct BarState { BarCommon parent_obj; uint32_t *ctx; } BarState;
#define BAR(obj) ((BarState *)(obj))
#define BAR_COMMON(obj) ((BarCommon *)(obj))
bool bar_apply(uint32_t *map, uint32_t *ctx, Error **errp);

static void bar_setup(BarState *s, Error **errp)
{
    BarCommon *c = BAR_COMMON(s);

    s->ctx = g_new0(uint32_t, 4);
    if (c->map) {
        if (!bar_apply(c->map, s->ctx, errp)) {
            g_free(s->ctx);
            s->ctx = NULL;
            return;
        }
    }
}
static void bar_realize(PCIDevice *pdev, Error **errp)
{
    Error *err = NULL;

    bar_setup(BAR(pdev), &err);
    if (err) {
        error_propagate(errp, err);
        return;
    }
}
static void bar_exit(PCIDevice *pdev)
{
    g_free(BAR(pdev)->ctx);
}
static const Property bar_props[] = {
    DEFINE_PROP_UINT32("map", BarState, parent_obj.MAP_FIELD, 0),
};
static void bar_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    device_class_set_props(DEVICE_CLASS(klass), bar_props);
    k->realize = bar_realize;
    k->exit = bar_exit;
}
static const TypeInfo bar_info = {
    .name = "bar", .parent = TYPE_PCI_DEVICE, .instance_size = sizeof(BarState),
    .class_init = bar_class_init,
};
"""


def test_a_property_of_the_embedded_parent_is_set_for_helpers_given_the_parent(check_snippet):
    # DEFINE_PROP_...(BarState, parent_obj.map): a helper's test of c->map
    # (c the BarCommon) can be true, so the release under it counts
    assert check_snippet(PARENT_PROPERTY.replace("MAP_FIELD", "map")) == set()


BACKEND = """
typedef struct Backend Backend;
typedef struct BackendOps { int (*stop)(Backend *be); } BackendOps;
struct Backend { const BackendOps *ops; uint8_t *ring; };
typedef struct BeState { PCIDevice parent_obj; Backend be; } BeState;
#define BE(obj) ((BeState *)(obj))
static void be_stop(Backend *be)
{
    be->ops->stop(be);
}
"""


def test_a_back_end_method_called_on_the_object_is_no_hand_off(check_snippet):
    """``be->ops->stop(be)``: a call through the ops table the object
    holds, given the object, acts on it (vhost's ``dev->vhost_ops->...``)
    -- it does not take over what the object holds.  Handing the object
    to some other unknown call still counts as a hand-off."""
    code = HEAD + BACKEND + EMPTY_INIT + EMPTY_FINALIZE + """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    BE(pdev)->be.ring = g_malloc0(64); /* HERE */
}
static void foo_exit(PCIDevice *pdev)
{
    be_stop(&BE(pdev)->be);
}
""" + TAIL.replace("sizeof(FooState)", "sizeof(BeState)")
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}
    handed = code.replace("    be->ops->stop(be);", "    backend_take(be);").replace(
        "static void be_stop", "void backend_take(Backend *be);\nstatic void be_stop")
    assert check_snippet(handed) == set()
