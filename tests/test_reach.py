"""freed-in-unrealize by reachability (issue 17): memory freed in
unrealize that a callback the device registered still reaches, on small
device snippets: check(code) == {(slug, line)}.  The registering calls
and their cut-offs are rules/tables/callbacks.toml."""
from __future__ import annotations

import pytest

from test_rules import line_of

from lifecheck.facts.reach import CallbackTableError, check_table

HEAD = """\
#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "system/memory.h"
#include "qom/object.h"
typedef struct FooState { PCIDevice parent_obj; MemoryRegion mmio; QEMUTimer *t;
                          uint32_t *buf; uint32_t *log; uint8_t *tmp; } FooState;
#define FOO(obj) ((FooState *)(obj))
static void foo_tick(void *opaque)
{
    FooState *s = opaque;
    s->buf[0]++;
}
static uint32_t foo_log_at(FooState *s, hwaddr addr)
{
    return s->log[addr & 7];
}
static uint64_t foo_read(void *opaque, hwaddr addr, unsigned size)
{
    return foo_log_at(opaque, addr);
}
static void foo_write(void *opaque, hwaddr addr, uint64_t val, unsigned size) { }
static const MemoryRegionOps foo_ops = { .read = foo_read, .write = foo_write };
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    s->buf = g_new0(uint32_t, 8);
    s->log = g_new0(uint32_t, 8);
    s->tmp = g_malloc0(64);
    memory_region_init_io(&s->mmio, OBJECT(s), &foo_ops, s, "foo", 0x1000);
    memory_region_add_subregion(pci_address_space(pdev), 0x1000, &s->mmio);
    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s);
}
static void foo_finalize(Object *obj) { }
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
    .class_init = foo_class_init, .instance_finalize = foo_finalize,
};
"""


def dev(exit_body: str) -> str:
    return HEAD + "static void foo_exit(PCIDevice *pdev)\n{\n    FooState *s = FOO(pdev);\n" \
        + exit_body + "}\n" + TAIL


def test_buffer_a_timer_callback_writes_freed_before_the_timer_stops(check_snippet):
    # cut off later in the same exit: the order is wrong, but under the BQL
    # the tick cannot run in between: it holds only in principle (a note,
    # hidden by default)
    code = dev("""
    memory_region_del_subregion(pci_address_space(pdev), &s->mmio);
    g_free(s->buf); /* HERE */
    timer_free(s->t);
    g_free(s->log); /* INFLIGHT */
    g_free(s->tmp);
""")
    # foo_read() reads s->log: its region is unmapped first, but an access
    # already dispatched can still call it (a warning); s->buf's timer is
    # cut off only later, under the BQL: only in principle (a note)
    assert check_snippet(code, severity=True) == {("freed-in-unrealize", line_of(code, "/* HERE */"), "note"),
                                                  ("freed-in-unrealize", line_of(code, "/* INFLIGHT */"), "warning")}


def test_buffer_a_timer_callback_writes_while_the_timer_outlives_exit(check_snippet):
    # the timer is stopped only in instance_finalize: it can fire after unplug
    code = dev("""
    memory_region_del_subregion(pci_address_space(pdev), &s->mmio);
    g_free(s->buf); /* HERE */
    g_free(s->log); /* INFLIGHT */
    g_free(s->tmp);
""").replace("static void foo_finalize(Object *obj) { }",
             "static void foo_finalize(Object *obj) { timer_free(FOO(obj)->t); }")
    assert check_snippet(code, severity=True) == {("freed-in-unrealize", line_of(code, "/* HERE */"), "error"),
                                                  ("freed-in-unrealize", line_of(code, "/* INFLIGHT */"), "warning")}


def test_a_pointer_cleared_or_wiped_is_not_reached_afterwards(check_snippet):
    code = dev("""
    g_free(s->buf);
    s->buf = NULL;
    memory_region_del_subregion(pci_address_space(pdev), &s->mmio);
    g_free(s->log);
    s->log = NULL;
    g_free(s->tmp);
""").replace("static void foo_finalize(Object *obj) { }",
             "static void foo_finalize(Object *obj) { timer_free(FOO(obj)->t); }")
    assert check_snippet(code) == set()


def test_buffer_an_mmio_handler_reads_through_a_helper(check_snippet):
    code = dev("""
    timer_free(s->t);
    g_free(s->buf);
    g_free(s->log); /* HERE */
    memory_region_del_subregion(pci_address_space(pdev), &s->mmio);
    g_free(s->tmp);
""")
    assert check_snippet(code) == {("freed-in-unrealize", line_of(code, "/* HERE */"))}


def test_callbacks_cut_off_first_and_unreached_memory_are_silent(check_snippet):
    code = dev("""
    g_free(s->tmp);
    timer_del(s->t);
    memory_region_del_subregion(pci_address_space(pdev), &s->mmio);
    g_free(s->buf);
    timer_free(s->t);
""").replace("static void foo_finalize(Object *obj) { }",
             "static void foo_finalize(Object *obj) { g_free(FOO(obj)->log); }")
    # the timer is stopped before s->buf is freed; s->log, which the MMIO
    # handler reads, waits for instance_finalize; s->tmp nothing reads
    assert check_snippet(code) == set()


def test_mmio_memory_freed_after_the_region_is_unmapped_is_reached_in_flight(check_snippet):
    # unmapping does not stop an access a vCPU already dispatched
    # (callbacks.toml: inflight): a warning that names the unmapping
    code = dev("""
    timer_free(s->t);
    memory_region_del_subregion(pci_address_space(pdev), &s->mmio);
    g_free(s->buf);
    g_free(s->log); /* HERE */
    g_free(s->tmp);
""")
    assert check_snippet(code, severity=True) == {("freed-in-unrealize", line_of(code, "/* HERE */"), "warning")}


def test_the_finding_names_the_callback_and_the_access(tmp_path, catalog):
    from conftest import EXAMPLES, check_tree
    report = check_tree(EXAMPLES, [EXAMPLES / "hw" / "misc" / "pci-sampler.c"], catalog)
    got = {f.loc.line: f for f in report.findings if f.rule == "freed-in-unrealize"}
    history = got[line_of((EXAMPLES / "hw/misc/pci-sampler.c").read_text(), "g_free(s->history)")]
    assert "sampler_mmio_read()" in history.message and "self.history[]" in history.message
    roles = {(r.role, r.loc.line) for r in history.related}
    text = (EXAMPLES / "hw/misc/pci-sampler.c").read_text()
    assert history.severity == "note"   # cut off later in the same exit: only in principle
    assert ("callback", line_of(text, "memory_region_init_io(&s->window")) in roles
    assert ("use", line_of(text, "return s->history[")) in roles
    assert ("cutoff", line_of(text, "memory_region_del_subregion(pci_address_space(pdev), &s->window)")) in roles


VQ = """\
#include "qemu/osdep.h"
#include "hw/virtio/virtio.h"
#include "qom/object.h"
typedef struct VFoo { VirtIODevice parent_obj; VirtQueue *vq; uint8_t *ring; } VFoo;
#define VFOO(obj) ((VFoo *)(obj))
static void vfoo_handle(VirtIODevice *vdev, VirtQueue *vq)
{
    VFoo *s = VFOO(vdev);
    s->ring[0] = 1;
}
static void vfoo_realize(DeviceState *dev, Error **errp)
{
    VFoo *s = VFOO(dev);
    virtio_init(VIRTIO_DEVICE(dev), 1, 0);
    s->ring = g_malloc0(16);
    s->vq = virtio_add_queue(VIRTIO_DEVICE(dev), 64, vfoo_handle);
}
static void vfoo_unrealize(DeviceState *dev)
{
    VFoo *s = VFOO(dev);
%s
}
static void vfoo_class_init(ObjectClass *klass, const void *data)
{
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_CLASS(klass);
    vdc->realize = vfoo_realize;
    vdc->unrealize = vfoo_unrealize;
}
static const TypeInfo vfoo_info = {
    .name = "vfoo", .parent = TYPE_VIRTIO_DEVICE, .instance_size = sizeof(VFoo),
    .class_init = vfoo_class_init,
};
"""


def test_virtqueue_handler_memory_freed_before_the_queue_is_deleted(check_snippet):
    code = VQ % """    g_free(s->ring); /* HERE */
    virtio_delete_queue(s->vq);
    virtio_cleanup(VIRTIO_DEVICE(dev));"""
    assert check_snippet(code, name="hw/virtio/vfoo.c") == {("freed-in-unrealize", line_of(code, "/* HERE */"))}
    fixed = VQ % """    virtio_delete_queue(s->vq);
    virtio_cleanup(VIRTIO_DEVICE(dev));
    g_free(s->ring);"""
    assert check_snippet(fixed, name="hw/virtio/vfoo2.c") == set()


@pytest.mark.parametrize("table, message", [
    ({"register": [{"function": "f", "opaque": 1}]}, "needs 'callbacks' or 'ops'"),
    ({"register": [{"function": "f", "callbacks": [0], "opaque": 1, "handel": 0}]}, "unknown keys ['handel']"),
    ({"register": [{"function": "f", "callbacks": [0]}]}, "'register[0].opaque' is required"),
    ({"cutoff": [{"function": "g"}]}, "needs 'handle', 'registrations' or 'unmaps'"),
    ({"cutoff": [{"function": "g", "unmaps": "bars"}]}, "no [[mapping]] maps into 'bars'"),
    ({"mapping": [{"function": "m", "into": "bars"}]}, "'mapping[0].region' is required"),
    ({"register": [{"function": "f", "callbacks": [0], "opaque": 1}],
      "cutoff": [{"function": "g", "handle": 0}],
      "before_hook": [{"hook": "PCIDeviceClass.exit", "cutoffs": ["g"]}]},
     "'g' is not a [[cutoff]] with 'unmaps' or 'registrations'"),
    ({"cutoff": [{"function": "g", "registrations": ["nope"]}]}, "'nope' is not a [[register]] function"),
    ({"cutoff": [{"function": "g", "handle": -2}]}, "must be an argument index"),
    ({"register": [{"function": "f", "callbacks": [0], "opaque": 1, "inflight": 1}]}, "must be true or false"),
    ({"bus_child": [{"getter": "g"}]}, "key 'bus_child[0].type' must be a QOM type name"),
    ({"bus_child": [{"getter": "g", "type": "t", "x": 1}]}, "unknown keys ['x']"),
])
def test_callback_table_is_checked(table, message):
    with pytest.raises(CallbackTableError, match=__import__("re").escape(message)):
        check_table(table)


def test_bundled_callback_table_loads(catalog):
    regs, cuts, maps, befores, children = check_table(catalog.tables["callbacks"])
    assert {"memory_region_init_io", "timer_new_ns", "virtio_add_queue"} <= {r.function for r in regs}
    assert {r.function for r in regs if r.inflight} >= {"memory_region_init_io"}
    assert [(c.getter, c.type) for c in children] == [("virtio_bus_get_device", "virtio-device")]
    assert {"timer_del", "memory_region_del_subregion", "virtio_cleanup"} <= {c.function for c in cuts}


WIPE = """\
#include "qemu/osdep.h"
#include "hw/virtio/virtio.h"
#include "qom/object.h"
struct vhost_virtqueue { int kick; };
struct vhost_dev { struct vhost_virtqueue *vqs; int nvqs; };
int vhost_dev_init(struct vhost_dev *hdev, void *opaque, int backend_type, uint32_t busyloop_timeout,
                   Error **errp);
void vhost_dev_cleanup(struct vhost_dev *hdev);
typedef struct VUFoo { VirtIODevice parent_obj; struct vhost_dev vhost_dev; } VUFoo;
#define VUFOO(obj) ((VUFoo *)(obj))
static void vufoo_realize(DeviceState *dev, Error **errp)
{
    VUFoo *s = VUFOO(dev);
    s->vhost_dev.nvqs = 2;
    s->vhost_dev.vqs = g_new0(struct vhost_virtqueue, 2);
    vhost_dev_init(&s->vhost_dev, NULL, 0, 0, errp);
}
static void vufoo_unrealize(DeviceState *dev)
{
    VUFoo *s = VUFOO(dev);
%s
}
static void vufoo_class_init(ObjectClass *klass, const void *data)
{
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_CLASS(klass);
    vdc->realize = vufoo_realize;
    vdc->unrealize = vufoo_unrealize;
}
static const TypeInfo vufoo_info = {
    .name = "vufoo", .parent = TYPE_VIRTIO_DEVICE, .instance_size = sizeof(VUFoo),
    .class_init = vufoo_class_init,
};
"""


def test_a_field_read_after_the_call_that_wipes_its_struct(check_snippet):
    code = WIPE % """    vhost_dev_cleanup(&s->vhost_dev);
    g_free(s->vhost_dev.vqs); /* HERE */"""
    got = check_snippet(code, name="hw/virtio/vufoo.c")
    assert ("use-after-release", line_of(code, "/* HERE */")) in got
    fixed = WIPE % """    struct vhost_virtqueue *vqs = s->vhost_dev.vqs;

    vhost_dev_cleanup(&s->vhost_dev);
    g_free(vqs);"""
    assert not {f for f in check_snippet(fixed, name="hw/virtio/vufoo2.c") if f[0] == "use-after-release"}


BAR = HEAD.replace("memory_region_add_subregion(pci_address_space(pdev), 0x1000, &s->mmio);",
                   "pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);") \
    + "void pci_unregister_io_regions(PCIDevice *pci_dev);\n"


def test_bars_the_pci_core_unmaps_first_are_cut_off(check_snippet):
    # pci_qdev_unrealize() unmaps every BAR before it calls exit
    # (callbacks.toml [[before_hook]]): the BAR's handlers are cut off
    code = BAR + """static void foo_exit(PCIDevice *pdev)
{
    FooState *s = FOO(pdev);
    g_free(s->log); /* INFLIGHT */
    g_free(s->buf); /* HERE */
    timer_free(s->t);
    g_free(s->tmp);
}
""" + TAIL
    # the BAR's handlers may still be called by an access in flight (a
    # warning); the timer is cut off later, under the BQL (only in
    # principle: a note)
    assert check_snippet(code, severity=True) == {("freed-in-unrealize", line_of(code, "/* HERE */"), "note"),
                                                  ("freed-in-unrealize", line_of(code, "/* INFLIGHT */"), "warning")}


CHILD = """\
#include "qemu/osdep.h"
#include "hw/pci/pci_device.h"
#include "qom/object.h"
bool qdev_realize_and_unref(DeviceState *dev, BusState *bus, Error **errp);
typedef struct Lu { PCIDevice parent_obj; DeviceState *child; } Lu;
#define LU(obj) ((Lu *)(obj))
static void lu_realize(PCIDevice *pdev, Error **errp)
{
    Lu *s = LU(pdev);
    DeviceState *child;

    child = qdev_new("scsi-hd");
    object_property_add_child(OBJECT(s), "disk", OBJECT(child));
    if (!qdev_realize_and_unref(child, NULL, errp)) {
        return;
    }
    s->child = DEVICE(child);%s
}
static void lu_exit(PCIDevice *pdev)
{
    Lu *s = LU(pdev);

    object_unref(OBJECT(s->child)); /* HERE */
    s->child = NULL;
}
static void lu_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    k->realize = lu_realize;
    k->exit = lu_exit;
}
static const TypeInfo lu_info = {
    .name = "lu", .parent = TYPE_PCI_DEVICE, .instance_size = sizeof(Lu),
    .class_init = lu_class_init,
};
"""


def test_unref_of_a_child_whose_reference_realize_gave_up(check_snippet):
    code = CHILD % ""
    assert ("double-release", line_of(code, "/* HERE */")) in check_snippet(code, name="hw/ufs/lu1.c")
    kept = CHILD % "\n    object_ref(OBJECT(s->child));"
    assert not {f for f in check_snippet(kept, name="hw/ufs/lu2.c") if f[0] == "double-release"}


FD = HEAD.replace("static void foo_finalize(Object *obj) { }", """\
static void foo_finalize(Object *obj) { }
typedef void IOHandler(void *opaque);
void qemu_set_fd_handler(int fd, IOHandler *fd_read, IOHandler *fd_write, void *opaque);
int foo_get_fd(FooState *s);
static void foo_fd_read(void *opaque)
{
    FooState *s = opaque;
    s->tmp[0] = 1;
}
static void foo_init(Object *obj)
{
    FooState *s = FOO(obj);
    int fd = foo_get_fd(s);

    qemu_set_fd_handler(fd, foo_fd_read, NULL, s);
}""").replace(".instance_finalize = foo_finalize", ".instance_finalize = foo_finalize, .instance_init = foo_init")


def test_an_fd_handler_removed_through_another_expression_of_its_fd(check_snippet):
    # the fd lives in locals: the same call with NULL handlers and the same
    # opaque is the cut-off (callbacks.toml: cutoff opaque)
    body = """static void foo_exit(PCIDevice *pdev)
{
    FooState *s = FOO(pdev);
%s    g_free(s->tmp); /* HERE */
    timer_free(s->t);
    g_free(s->buf);
    g_free(s->log);
    memory_region_del_subregion(pci_address_space(pdev), &s->mmio);
}
"""
    kept = FD + body % "" + TAIL.replace(".instance_finalize = foo_finalize",
                                         ".instance_finalize = foo_finalize, .instance_init = foo_init")
    assert ("freed-in-unrealize", line_of(kept, "/* HERE */"), "error") in check_snippet(kept, severity=True)
    removed = FD + body % "    qemu_set_fd_handler(foo_get_fd(s), NULL, NULL, s);\n" \
        + TAIL.replace(".instance_finalize = foo_finalize", ".instance_finalize = foo_finalize, .instance_init = foo_init")
    assert ("freed-in-unrealize", line_of(removed, "/* HERE */")) not in check_snippet(removed, name="hw/misc/snippet2.c")


BUS = """\
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/qdev-core.h"
#include "system/memory.h"
#include "qom/object.h"
typedef struct VDev { DeviceState parent_obj; uint8_t *config; uint8_t *scratch; } VDev;
typedef struct Proxy { DeviceState parent_obj; MemoryRegion mmio; BusState bus; } Proxy;
VDev *virtio_bus_get_device(BusState *bus);
uint8_t vdev_config_readb(VDev *vdev, uint32_t addr)
{
    return vdev->config[addr & 15];
}
static uint64_t proxy_read(void *opaque, hwaddr addr, unsigned size)
{
    Proxy *p = opaque;
    VDev *vdev = virtio_bus_get_device(&p->bus);

    return vdev_config_readb(vdev, addr);
}
static void proxy_write(void *opaque, hwaddr addr, uint64_t val, unsigned size) { }
static const MemoryRegionOps proxy_ops = { .read = proxy_read, .write = proxy_write };
static void proxy_realize(DeviceState *dev, Error **errp)
{
    Proxy *p = (Proxy *)dev;
    memory_region_init_io(&p->mmio, OBJECT(p), &proxy_ops, p, "proxy", 0x100);
}
static void vdev_realize(DeviceState *dev, Error **errp)
{
    VDev *v = (VDev *)dev;
    v->config = g_malloc0(16);
    v->scratch = g_malloc0(16);
}
static void vdev_unrealize(DeviceState *dev)
{
    VDev *v = (VDev *)dev;
%s
}
static void vdev_finalize(Object *obj)
{
    VDev *v = (VDev *)obj;
%s
}
static void vdev_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    dc->realize = vdev_realize;
    dc->unrealize = vdev_unrealize;
}
static void proxy_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    dc->realize = proxy_realize;
}
static const TypeInfo vdev_info = {
    .name = "virtio-device", .parent = TYPE_DEVICE, .instance_size = sizeof(VDev),
    .class_init = vdev_class_init, .instance_finalize = vdev_finalize,
};
static const TypeInfo proxy_info = {
    .name = "vproxy", .parent = TYPE_DEVICE, .instance_size = sizeof(Proxy),
    .class_init = proxy_class_init,
};
"""


def test_memory_a_transport_reaches_through_the_bus_getter(check_snippet):
    # the transport's MMIO handler hands virtio_bus_get_device()'s result to
    # vdev_config_readb(): a callback of the child ([[bus_child]]), still
    # mapped when the child is unrealized; s->scratch nothing reaches
    code = BUS % ("    g_free(v->scratch);\n    g_free(v->config); /* HERE */", "")
    assert check_snippet(code, name="hw/virtio/vbus.c") == {("freed-in-unrealize", line_of(code, "/* HERE */"))}
    fixed = BUS % ("    g_free(v->scratch);", "    g_free(v->config);")
    assert check_snippet(fixed, name="hw/virtio/vbus2.c") == set()


def test_thread_and_finalize_users_are_named(catalog):
    from conftest import EXAMPLES, check_tree
    path = EXAMPLES / "hw" / "misc" / "pci-jobqueue.c"
    text = path.read_text()
    report = check_tree(EXAMPLES, [path], catalog)
    got = {f.loc.line: f for f in report.findings if f.rule == "freed-in-unrealize"}
    assert set(got) == {line_of(text, "g_free(s->jobs)"), line_of(text, "g_free(s->slots)")}
    jobs, slots = got[line_of(text, "g_free(s->jobs)")], got[line_of(text, "g_free(s->slots)")]
    # the worker runs outside the BQL: a join later in exit leaves a window
    assert jobs.severity == "error" and "jobqueue_worker()" in jobs.message
    assert ("callback", line_of(text, "qemu_thread_create(")) in {(r.role, r.loc.line) for r in jobs.related}
    assert ("late-cutoff", line_of(text, "qemu_thread_join(")) in {(r.role, r.loc.line) for r in jobs.related}
    # instance_finalize always runs after unrealize
    assert slots.severity == "error" and slots.consequence == "use-after-free-on-teardown"
    assert ("use", line_of(text, "qemu_cond_destroy(")) in {(r.role, r.loc.line) for r in slots.related}


CHILD_IN_PLACE = """\
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/qdev-core.h"
#include "qom/object.h"
typedef struct Sub { DeviceState child; uint32_t regs[4]; } Sub;
typedef struct Hub { DeviceState parent_obj; Sub *sub; uint8_t *log; } Hub;
static void hub_realize(DeviceState *dev, Error **errp)
{
    Hub *s = (Hub *)dev;
    s->sub = g_new0(Sub, 1);
    s->log = g_malloc0(16);
    object_initialize_child(OBJECT(s), "sub", &s->sub->child, TYPE_DEVICE);
}
static void hub_unrealize(DeviceState *dev)
{
    Hub *s = (Hub *)dev;
    g_free(s->log);
    g_free(s->sub); /* HERE */
}
static void hub_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    dc->realize = hub_realize;
    dc->unrealize = hub_unrealize;
}
static const TypeInfo hub_info = {
    .name = "hub", .parent = TYPE_DEVICE, .instance_size = sizeof(Hub), .class_init = hub_class_init,
};
"""


def test_memory_holding_a_qom_child_in_place_is_finalized_after_unrealize(check_snippet):
    # the device's finalize unparents the child that lives in s->sub; s->log
    # holds nothing QOM reaches
    code = CHILD_IN_PLACE
    assert check_snippet(code) == {("freed-in-unrealize", line_of(code, "/* HERE */"))}
    # unparented first (ahci_uninit()): nothing of QOM's is left in it
    fixed = code.replace("    g_free(s->log);\n", "    g_free(s->log);\n    object_unparent(OBJECT(&s->sub->child));\n")
    assert fixed != code
    assert check_snippet(fixed, name="hw/misc/snippet2.c") == set()
