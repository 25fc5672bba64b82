"""Calls through function pointers on lifecycle paths (graph.py
``_index_indirect_calls``): a field of a class struct that class_init
fills (``fc->fini(...)``), a field of an ops table a file-scope
initialiser fills (``s->ops->stop(...)``).  check(code) == {(slug, line)}.
Snippets use examples/include."""
from __future__ import annotations

from test_rules import line_of

HEAD = """\
#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/irq.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_device.h"
#include "qom/object.h"
typedef struct FooState FooState;
typedef struct FooOps { void (*foo_backend_stop)(QEMUTimer *t); } FooOps;
struct FooState { PCIDevice parent_obj; QEMUTimer *t; qemu_irq irq; const FooOps *ops; };
typedef struct FooClass {
    PCIDeviceClass parent_class;
    void (*setup)(FooState *s);
    void (*fini)(QEMUTimer *t);
} FooClass;
#define FOO(obj) ((FooState *)(obj))
#define FOO_GET_CLASS(obj) ((FooClass *)object_get_class(OBJECT(obj)))
#define FOO_CLASS(klass) ((FooClass *)(klass))
static void foo_tick(void *opaque) { }
"""

REALIZE = """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s); /* HERE */
}
"""


def dev(body: str, class_lines: str = "", abstract: bool = False, sub_class_lines: str = "") -> str:
    sub = ""
    if abstract:
        sub = """
static void foo_sub_class_init(ObjectClass *klass, const void *data)
{
    FooClass *fc = FOO_CLASS(klass);
%s
}
static const TypeInfo foo_sub_info = {
    .name = "foo-sub", .parent = "foo", .class_init = foo_sub_class_init,
};
""" % sub_class_lines
    return HEAD + body + """
static void foo_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    FooClass *fc = FOO_CLASS(klass);
    k->realize = foo_realize;
    k->exit = foo_exit;
%s
}
static const TypeInfo foo_info = {
    .name = "foo", .parent = TYPE_PCI_DEVICE, .instance_size = sizeof(FooState),
    .class_size = sizeof(FooClass), .class_init = foo_class_init, .abstract = %s,
};
""" % (class_lines, "true" if abstract else "false") + sub


CLASS_EXIT = """
static void foo_exit(PCIDevice *pdev)
{
    FooClass *fc = FOO_GET_CLASS(pdev);
    if (fc->fini) {
        fc->fini(FOO(pdev)->t);
    }
}
"""


def test_teardown_through_a_class_callback_is_followed(check_snippet):
    """``fc->fini(s->t)``: what the class_init stored there runs; before,
    a call lifecheck could not see into, which received the timer and so
    counted as its release."""
    body = REALIZE + """
static void foo_fini_stop(QEMUTimer *t) { timer_del(t); }
static void foo_fini_free(QEMUTimer *t) { timer_free(t); }
""" + CLASS_EXIT
    leaky = dev(body, "    fc->fini = foo_fini_stop;")
    assert check_snippet(leaky) == {("leak-on-unrealize", line_of(leaky, "/* HERE */"))}
    fixed = dev(body, "    fc->fini = foo_fini_free;")
    assert check_snippet(fixed) == set()
    # no class stores one: the pointer is NULL, the call is not made
    unset = dev(body, "")
    assert check_snippet(unset) == {("leak-on-unrealize", line_of(unset, "/* HERE */"))}


def test_an_abstract_type_runs_its_subtypes_callbacks(check_snippet):
    """A class callback the abstract base leaves unset is any subtype's."""
    body = REALIZE + """
static void foo_fini_free(QEMUTimer *t) { timer_free(t); }
""" + CLASS_EXIT
    code = dev(body, "", abstract=True, sub_class_lines="    fc->fini = foo_fini_free;")
    assert check_snippet(code) == set()


def test_an_acquisition_in_a_class_callback_of_realize_is_seen(check_snippet):
    body = """
static void foo_setup_irq(FooState *s)
{
    s->irq = pci_allocate_irq(&s->parent_obj); /* IRQ */
}
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooClass *fc = FOO_GET_CLASS(pdev);
    fc->setup(FOO(pdev));
}
static void foo_exit(PCIDevice *pdev)
{
}
"""
    code = dev(body, "    fc->setup = foo_setup_irq;")
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* IRQ */"))}


def test_the_test_of_a_class_callback_goes_the_way_the_class_decides(check_snippet):
    """``if (fc->fini) fc->fini(s->t);`` on realize's error path: when the
    device's class stores a callback, the pointer is never NULL, so the
    path that skips the call is not taken (pcie-root-port's
    ``if (rpc->interrupts_uninit)``, vfio-ccw's ``if (cdc->unrealize)``);
    when no class stores one, only that path is."""
    body = """
bool foo_setup(FooState *s, Error **errp);
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    FooClass *fc = FOO_GET_CLASS(pdev);

    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s); /* HERE */
    if (!foo_setup(s, errp)) {
        goto fail;
    }
    return;

fail:
    if (fc->fini) {
        fc->fini(s->t);
    }
}
static void foo_fini_free(QEMUTimer *t) { timer_free(t); }
static void foo_exit(PCIDevice *pdev)
{
    timer_free(FOO(pdev)->t);
}
"""
    released = dev(body, "    fc->fini = foo_fini_free;")
    assert check_snippet(released) == set()
    unset = dev(body, "")
    assert check_snippet(unset) == {("realize-error-leak", line_of(unset, "/* HERE */"))}


OPS_EXIT = """
static void foo_exit(PCIDevice *pdev)
{
    FooState *s = FOO(pdev);
    s->ops->foo_backend_stop(s->t);
}
"""


def test_teardown_through_an_ops_table_is_followed(check_snippet):
    """``s->ops->foo_backend_stop(s->t)``: the functions file-scope
    initialisers put in that field run."""
    leaky = dev(REALIZE + """
static void foo_null_stop(QEMUTimer *t) { timer_del(t); }
static const FooOps foo_null_ops = { .foo_backend_stop = foo_null_stop };
""" + OPS_EXIT)
    assert check_snippet(leaky) == {("leak-on-unrealize", line_of(leaky, "/* HERE */"))}
    fixed = dev(REALIZE + """
static void foo_null_stop(QEMUTimer *t) { timer_free(t); }
static const FooOps foo_null_ops = { .foo_backend_stop = foo_null_stop };
""" + OPS_EXIT)
    assert check_snippet(fixed) == set()
    # a field no initialiser fills stays a call lifecheck cannot see into
    unknown = dev(REALIZE + OPS_EXIT)
    assert check_snippet(unknown) == set()


def test_a_field_in_many_tables_is_not_resolved(check_snippet):
    """A field name more than MAX_OPS_TARGETS initialisers fill (``read``,
    ``reset``) says nothing about which table the pointer holds."""
    tables = "".join("static void foo_stop%d(QEMUTimer *t) { timer_del(t); }\n"
                     "static const FooOps foo_ops%d = { .foo_backend_stop = foo_stop%d };\n" % (i, i, i)
                     for i in range(5))
    code = dev(REALIZE + tables + OPS_EXIT)
    assert check_snippet(code) == set()


def test_a_getter_is_no_release(check_snippet):
    """``p = memory_region_get_ram_ptr(s->bar)``-style getters
    (ownership.toml query_words) only read what they are given."""
    code = dev(REALIZE + """
void *foo_timer_get_opaque(QEMUTimer *t);
static void *saved;
static void foo_exit(PCIDevice *pdev)
{
    saved = foo_timer_get_opaque(FOO(pdev)->t);
}
""")
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}


def test_an_api_call_that_only_uses_the_resource_is_no_release(check_snippet):
    """``timer_mod(s->t, ...)`` on a teardown path (ownership.toml
    never_release_calls) does not hand the timer on."""
    code = dev(REALIZE + """
static void foo_exit(PCIDevice *pdev)
{
    timer_mod(FOO(pdev)->t, 0);
}
""")
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}


def test_a_hook_that_is_the_release_itself_releases(check_snippet):
    """``k->exit = pci_bridge_exitfn``: the API release bound as the hook
    releases the device's bridge state as a call of it would."""
    code = HEAD + """
void pci_bridge_initfn(PCIDevice *dev, const char *typename);
void pci_bridge_exitfn(PCIDevice *dev)
{
}
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    pci_bridge_initfn(pdev, "PCI"); /* HERE */
}
static void foo_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    k->realize = foo_realize;
    k->exit = pci_bridge_exitfn;
}
static const TypeInfo foo_info = {
    .name = "foo", .parent = TYPE_PCI_DEVICE, .instance_size = sizeof(FooState),
    .class_init = foo_class_init,
};
"""
    assert check_snippet(code) == set()
    unbound = code.replace("    k->exit = pci_bridge_exitfn;\n", "")
    assert check_snippet(unbound) == {("leak-on-unrealize", line_of(unbound, "/* HERE */"))}
