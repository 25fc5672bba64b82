"""What a device acquires outside its hooks while it lives -- in the
callbacks it registers (MMIO handlers, timers) and in the setters of its
QOM properties -- must be released by its teardown (facts/runtime.py,
leak-on-unrealize): check(code) == {(slug, line)}."""
from __future__ import annotations

from test_rules import line_of
from test_rules_lifetime import EMPTY_FINALIZE, EMPTY_INIT, HEAD, TAIL

MMIO = """
#include "system/memory.h"
typedef struct BarState { PCIDevice parent_obj; MemoryRegion mmio; QEMUTimer *t; uint8_t *buf;
                          char *name; } BarState;
#define BAR(obj) ((BarState *)(obj))
static uint64_t bar_read(void *opaque, hwaddr addr, unsigned size) { return 0; }
"""


def bar(write: str, exit_body: str = "", init_body: str = "", extra: str = "") -> str:
    return HEAD + MMIO + extra + write + """
static const MemoryRegionOps bar_ops = { .read = bar_read, .write = bar_write };
static void foo_init(Object *obj)
{
    BarState *s = BAR(obj);
""" + init_body + """
}
static void foo_finalize(Object *obj) { }
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    BarState *s = BAR(pdev);
    memory_region_init_io(&s->mmio, OBJECT(s), &bar_ops, s, "bar", 0x100);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);
}
static void foo_exit(PCIDevice *pdev)
{
    BarState *s = BAR(pdev);
""" + exit_body + """
}
""" + TAIL


LAZY_WRITE = """
static void bar_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    BarState *s = opaque;
    if (!s->t) {
        s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s); /* HERE */
    }
}
"""


def test_a_timer_an_mmio_handler_makes_must_be_freed_on_teardown(check_snippet):
    code = bar(LAZY_WRITE)
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}


def test_a_timer_an_mmio_handler_makes_and_exit_frees_is_fine(check_snippet):
    """The re-arm pattern (``if (!s->t) s->t = timer_new_ns(...)``) is
    no finding when teardown frees it."""
    assert check_snippet(bar(LAZY_WRITE, exit_body="    timer_free(s->t);")) == set()


def test_a_buffer_the_handler_frees_again_is_fine(check_snippet):
    code = bar("""
static void bar_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    BarState *s = opaque;
    s->buf = g_malloc0(size);
    memcpy(s->buf, &val, size);
    g_free(s->buf);
    s->buf = NULL;
}
""")
    assert check_snippet(code) == set()


FREE_THEN_ALLOC = """
static void bar_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    BarState *s = opaque;
    g_free(s->buf);
    s->buf = g_malloc0(val); /* HERE */
}
"""


def test_free_then_alloc_in_a_handler_leaves_the_last_one_to_teardown(check_snippet):
    code = bar(FREE_THEN_ALLOC)
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}
    assert check_snippet(bar(FREE_THEN_ALLOC, exit_body="    g_free(s->buf);")) == set()


SETTER = """
static void bar_write(void *opaque, hwaddr addr, uint64_t val, unsigned size) { }
static bool bar_get_poll(Object *obj, Error **errp) { return BAR(obj)->t != NULL; }
static void bar_set_poll(Object *obj, bool value, Error **errp)
{
    BarState *s = BAR(obj);
    if (!value) {
        timer_free(s->t);
        s->t = NULL;
        return;
    }
    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s); /* HERE */
}
"""


def test_a_timer_a_property_setter_makes_must_be_freed_on_teardown(check_snippet):
    """The setter's own release, on another path, frees what an earlier
    call made, not what this one keeps."""
    code = bar(SETTER, init_body='    object_property_add_bool(obj, "poll", bar_get_poll, bar_set_poll);')
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}
    fixed = bar(SETTER, init_body='    object_property_add_bool(obj, "poll", bar_get_poll, bar_set_poll);',
                exit_body="    timer_free(s->t);")
    assert check_snippet(fixed) == set()


def test_a_class_property_setter_runs_on_every_instance(check_snippet):
    code = bar(SETTER).replace("    k->realize = foo_realize;", """    k->realize = foo_realize;
    object_class_property_add_bool(klass, "poll", bar_get_poll, bar_set_poll);""")
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}


def test_a_handler_handing_its_embedded_parent_to_a_helper_names_the_device(check_snippet):
    """``&s->parent_obj`` is the device itself (the QOM parent is the
    first member): what the helper keeps after casting it back is the
    device's field that exit frees."""
    code = bar("""
static void bar_start(PCIDevice *pdev)
{
    BarState *s = BAR(pdev);
    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s); /* HERE */
}
static void bar_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    BarState *s = opaque;
    if (!s->t) {
        bar_start(&s->parent_obj);
    }
}
""", exit_body="    timer_free(s->t);")
    assert check_snippet(code) == set()
    assert check_snippet(code.replace("    timer_free(s->t);", "")) == {
        ("leak-on-unrealize", line_of(code, "/* HERE */"))}


def test_what_a_callback_stores_in_a_linked_object_is_not_the_devices(check_snippet):
    code = bar("""
static void bar_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    BarState *s = opaque;
    FooState *peer = s->peer;
    peer->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, peer);
}
""", init_body='    object_property_add_link(obj, "peer", "foo", (Object **)&s->peer, NULL, 0);').replace(
        "char *name; } BarState;", "char *name; FooState *peer; } BarState;")
    assert check_snippet(code) == set()


def test_runtime_hooks_keep_counting_their_releases(check_snippet):
    """A runtime hook (the framework's reset, set_status) that releases
    what another runtime hook run acquired still counts, as before."""
    code = HEAD + EMPTY_INIT + EMPTY_FINALIZE + """
static void foo_reset(DeviceState *dev)
{
    FooState *s = FOO(dev);
    if (s->n) {
        timer_free(s->t);
        s->t = NULL;
    } else {
        s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s);
    }
}
static void foo_realize(PCIDevice *pdev, Error **errp) { }
static void foo_exit(PCIDevice *pdev) { }
""" + TAIL.replace("    k->exit = foo_exit;", """    k->exit = foo_exit;
    device_class_set_legacy_reset(DEVICE_CLASS(klass), foo_reset);""")
    assert check_snippet(code) == set()


KVM = """
typedef struct EventNotifier { int rfd; int wfd; } EventNotifier;
typedef struct KVMState KVMState;
extern KVMState *kvm_state;
int kvm_irqchip_add_irqfd_notifier_gsi(KVMState *s, EventNotifier *n, EventNotifier *rn, int virq);
void event_notifier_cleanup(EventNotifier *e);
"""

IRQFD_WRITE = """
static void bar_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    BarState *s = opaque;
    kvm_irqchip_add_irqfd_notifier_gsi(kvm_state, &s->notifier, NULL, val); /* HERE */
}
"""


def irqfd_bar(exit_body: str) -> str:
    return bar(IRQFD_WRITE, exit_body=exit_body, extra=KVM).replace(
        "char *name; } BarState;", "char *name; EventNotifier notifier; } BarState;")


def test_an_irqfd_a_handler_binds_ends_when_teardown_closes_its_eventfd(check_snippet):
    """KVM detaches an irqfd when its eventfd is closed (Linux
    virt/kvm/eventfd.c: EPOLLHUP -> irqfd_deactivate()): closing the
    notifier in exit ends the irqfd as removing it would (ivshmem's
    close_peer_eventfds())."""
    code = irqfd_bar("")
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}
    assert check_snippet(irqfd_bar("    event_notifier_cleanup(&s->notifier);")) == set()


SCSI = """
typedef struct SCSIDevice SCSIDevice;
typedef struct SCSIRequest SCSIRequest;
typedef struct BarReq { SCSIRequest *req; uint32_t tag; } BarReq;
SCSIRequest *scsi_req_new(SCSIDevice *d, uint32_t tag, uint32_t lun, const uint8_t *buf,
                          size_t buf_len, void *hba_private);
int32_t scsi_req_enqueue(SCSIRequest *req);
void scsi_req_cancel(SCSIRequest *req);
void scsi_req_ref(SCSIRequest *req);
void scsi_req_unref(SCSIRequest *req);
SCSIDevice *bar_find(BarState *s, uint64_t id);
"""


def scsi_bar(write: str) -> str:
    return bar(write, extra=SCSI).replace(
        "char *name; } BarState;", "char *name; BarReq *current; SCSIRequest *pending; } BarState;")


def test_per_request_state_a_scsi_request_keeps_is_the_requests(check_snippet):
    """``scsi_req_new(..., hba_private)``: the request keeps hba_private
    and hands it to the HBA's cancel and complete callbacks, which free
    it (lsi53c895a's ``s->current``); what is not handed over leaks."""
    kept = scsi_bar("""
static void bar_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    BarState *s = opaque;
    s->current = g_new0(BarReq, 1);
    s->current->tag = val;
    s->current->req = scsi_req_new(bar_find(s, val), s->current->tag, 0, NULL, 0, s->current);
    scsi_req_enqueue(s->current->req);
}
""")
    assert ("leak-on-unrealize", line_of(kept, "s->current = g_new0")) not in check_snippet(kept)
    lost = kept.replace("0, NULL, 0, s->current);", "0, NULL, 0, NULL);")
    assert ("leak-on-unrealize", line_of(lost, "s->current = g_new0")) in check_snippet(lost)


def test_cancelling_a_request_takes_no_reference_of_the_devices(check_snippet):
    """scsi_req_cancel() takes a reference that scsi_req_cancel_complete()
    drops when the cancelled I/O ends (hw/scsi/scsi-bus.c): the framework's,
    not the device's to drop at unplug (rules/tables/framework.toml)."""
    code = scsi_bar("""
void scsi_req_cancel(SCSIRequest *req)
{
    scsi_req_ref(req);
}
static void bar_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    BarState *s = opaque;
    if (s->pending) {
        scsi_req_cancel(s->pending);
    }
}
""")
    assert check_snippet(code) == set()
    unmanaged = code.replace("scsi_req_cancel", "bar_req_cancel")
    assert {r for r, _ in check_snippet(unmanaged)} == {"leak-on-unrealize"}
