"""request-not-cancelled (issue 17): a request the device hands to a
backend with itself as the completion's opaque, made from realize or from
one of its callbacks, that unrealize neither cancels nor drains:
check(code) == {(slug, line)}.  The requests and their cancels are
rules/tables/callbacks.toml (``request = true``, [[cutoff]])."""
from __future__ import annotations

from test_rules import line_of

from lifecheck.facts.reach import check_table

# the rest of a virtio device whose queue handler is foo_handle; %s is
# what unrealize does before deleting the queue
VIRTIO_TAIL = """\
static void foo_realize(DeviceState *dev, Error **errp)
{
    Foo *s = FOO(dev);
    virtio_init(VIRTIO_DEVICE(dev), 0xfff0, 0);
    s->vq = virtio_add_queue(VIRTIO_DEVICE(dev), 8, foo_handle);
}
static void foo_unrealize(DeviceState *dev)
{
    Foo *s = FOO(dev);
%s
    virtio_delete_queue(s->vq);
    virtio_cleanup(VIRTIO_DEVICE(dev));
}
static void foo_class_init(ObjectClass *klass, const void *data)
{
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_CLASS(klass);
    vdc->realize = foo_realize;
    vdc->unrealize = foo_unrealize;
}
static const TypeInfo foo_info = {
    .name = "foo", .parent = TYPE_VIRTIO_DEVICE, .instance_size = sizeof(Foo),
    .class_init = foo_class_init,
};
"""

RNG = """\
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/virtio/virtio.h"
#include "system/rng.h"
#include "qom/object.h"
typedef struct Foo { VirtIODevice parent_obj; VirtQueue *vq; RngBackend *rng; size_t got; } Foo;
#define FOO(obj) ((Foo *)(obj))
static void foo_entropy(void *opaque, const void *buf, size_t size)
{
    Foo *s = opaque;
    s->got += size;
    virtio_notify(VIRTIO_DEVICE(s), s->vq);
}
static void foo_ask(Foo *s, size_t size)
{
    rng_backend_request_entropy(s->rng, size, foo_entropy, s); /* REQUEST */
}
static void foo_handle(VirtIODevice *vdev, VirtQueue *vq)
{
    foo_ask(FOO(vdev), 64);
}
""" + VIRTIO_TAIL


def test_a_request_from_a_queue_handler_not_cancelled(check_snippet):
    # deleting the queue that made the request does not cancel it
    code = RNG % ""
    assert check_snippet(code, name="hw/virtio/foo.c") == {("request-not-cancelled", line_of(code, "/* REQUEST */"))}


def test_a_request_cancelled_in_unrealize_is_silent(check_snippet):
    code = RNG % "    rng_backend_cancel_requests(s->rng, foo_entropy, s);"
    assert check_snippet(code, name="hw/virtio/foo2.c") == set()


def test_a_cancel_of_another_backend_does_not_count(check_snippet):
    code = RNG.replace("RngBackend *rng;", "RngBackend *rng; RngBackend *spare;") \
        % "    rng_backend_cancel_requests(s->spare, foo_entropy, s);"
    assert check_snippet(code, name="hw/virtio/foo3.c") == {("request-not-cancelled", line_of(code, "/* REQUEST */"))}


BLK = """\
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "system/memory.h"
#include "qom/object.h"
typedef struct BlockBackend BlockBackend;
typedef struct BlockAIOCB BlockAIOCB;
typedef void BlockCompletionFunc(void *opaque, int ret);
BlockAIOCB *blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque);
void blk_drain(BlockBackend *blk);
typedef struct FooState { PCIDevice parent_obj; MemoryRegion mmio; BlockBackend *blk; uint32_t status; } FooState;
#define FOO(obj) ((FooState *)(obj))
static void foo_flushed(void *opaque, int ret)
{
    FooState *s = opaque;
    s->status = ret;
}
static uint64_t foo_read(void *opaque, hwaddr addr, unsigned size) { return 0; }
static void foo_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    FooState *s = opaque;
    blk_aio_flush(s->blk, foo_flushed, s); /* REQUEST */
}
static const MemoryRegionOps foo_ops = { .read = foo_read, .write = foo_write };
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    memory_region_init_io(&s->mmio, OBJECT(s), &foo_ops, s, "foo", 0x1000);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);
}
static void foo_exit(PCIDevice *pdev)
{
    FooState *s = FOO(pdev);
%s
}
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
"""


def test_an_aio_request_from_an_mmio_write_not_drained(check_snippet):
    # the PCI core unmaps the BAR before exit: no new write, but the
    # flush already started completes
    code = BLK % "    s->status = 0;"
    assert check_snippet(code, name="hw/misc/foo.c", severity=True) == {
        ("request-not-cancelled", line_of(code, "/* REQUEST */"), "error")}


def test_an_aio_request_drained_in_exit_is_silent(check_snippet):
    code = BLK % "    blk_drain(s->blk);"
    assert check_snippet(code, name="hw/misc/foo2.c") == set()


def test_requests_in_the_bundled_table(catalog):
    regs, cuts, _, _, _ = check_table(catalog.tables["callbacks"])
    requests = {r.function for r in regs if r.request}
    assert {"rng_backend_request_entropy", "blk_aio_preadv", "dma_blk_io", "thread_pool_submit_aio"} <= requests
    assert not {"timer_new_ns", "virtio_add_queue", "memory_region_init_io"} & requests
    assert "rng_backend_cancel_requests" in {c.function for c in cuts}


CARRIED = """\
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/virtio/virtio.h"
#include "qom/object.h"
typedef struct BlockBackend BlockBackend;
typedef struct BlockAIOCB BlockAIOCB;
typedef void BlockCompletionFunc(void *opaque, int ret);
BlockAIOCB *blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb, void *opaque);
void blk_drain(BlockBackend *blk);
typedef struct Foo Foo;
typedef struct FooReq { Foo *dev; VirtQueue *vq; int ret; } FooReq;
struct Foo { VirtIODevice parent_obj; VirtQueue *vq; BlockBackend *blk; };
#define FOO(obj) ((Foo *)(obj))
static void foo_flushed(void *opaque, int ret)
{
    FooReq *req = opaque;
    virtio_notify(VIRTIO_DEVICE(req->dev), req->dev->vq);
    g_free(req);
}
static void foo_handle(VirtIODevice *vdev, VirtQueue *vq)
{
    Foo *s = FOO(vdev);
    FooReq *req = g_new0(FooReq, 1);
    req->vq = vq;
    req->dev = s;
    blk_aio_flush(s->blk, foo_flushed, req); /* REQUEST */
}
""" + VIRTIO_TAIL


def test_a_request_whose_opaque_points_to_the_device(check_snippet):
    # the opaque is a per-request structure; its 'dev' field is the device
    code = CARRIED % ""
    assert check_snippet(code, name="hw/virtio/foo.c") == {("request-not-cancelled", line_of(code, "/* REQUEST */"))}
    drained = CARRIED % "    blk_drain(s->blk);"
    assert check_snippet(drained, name="hw/virtio/foo2.c") == set()


def test_a_request_whose_opaque_does_not_point_to_the_device(check_snippet):
    code = (CARRIED % "").replace("    req->dev = s;\n", "")
    assert check_snippet(code, name="hw/virtio/foo3.c") == set()


WATCH = """\
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "qom/object.h"
typedef struct CharFrontend { void *chr; } CharFrontend;
typedef int FEWatchFunc(void *do_not_use, int cond, void *opaque);
unsigned qemu_chr_fe_add_watch(CharFrontend *be, int cond, FEWatchFunc func, void *opaque);
int qemu_chr_fe_write(CharFrontend *be, const uint8_t *buf, int len);
void qemu_chr_fe_deinit(CharFrontend *be, bool del);
int g_source_remove(unsigned tag);
typedef struct FooState { PCIDevice parent_obj; CharFrontend chr; unsigned watch_tag; uint8_t tx; } FooState;
#define FOO(obj) ((FooState *)(obj))
static int foo_watch_cb(void *do_not_use, int cond, void *opaque)
{
    FooState *s = opaque;
    s->watch_tag = 0;
    qemu_chr_fe_write(&s->chr, &s->tx, 1);
    return 0;
}
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    if (qemu_chr_fe_write(&s->chr, &s->tx, 1) <= 0) {
        s->watch_tag = qemu_chr_fe_add_watch(&s->chr, 4, foo_watch_cb, s); /* WATCH */
    }
}
static void foo_exit(PCIDevice *pdev)
{
    FooState *s = FOO(pdev);
%s
    qemu_chr_fe_deinit(&s->chr, false);
}
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
"""


def test_a_chardev_watch_outlives_the_front_end(check_snippet):
    # qemu_chr_fe_deinit() does not remove the sources add_watch attached
    code = WATCH % ""
    assert check_snippet(code, name="hw/char/foo.c") == {("request-not-cancelled", line_of(code, "/* WATCH */"))}
    removed = WATCH % "    if (s->watch_tag) {\n        g_source_remove(s->watch_tag);\n    }"
    assert check_snippet(removed, name="hw/char/foo2.c") == set()


ONESHOT = """\
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/virtio/virtio.h"
#include "qom/object.h"
typedef struct AioContext AioContext;
typedef void QEMUBHFunc(void *opaque);
AioContext *qemu_get_aio_context(void);
void aio_bh_schedule_oneshot_full(AioContext *ctx, QEMUBHFunc *cb, void *opaque, const char *name);
#define aio_bh_schedule_oneshot(ctx, cb, opaque) aio_bh_schedule_oneshot_full((ctx), (cb), (opaque), "cb")
typedef struct Foo { VirtIODevice parent_obj; VirtQueue *vq; } Foo;
#define FOO(obj) ((Foo *)(obj))
static void foo_config_bh(void *opaque)
{
    VirtIODevice *vdev = opaque;
    virtio_notify_config(vdev);
%(unref)s}
static void foo_handle(VirtIODevice *vdev, VirtQueue *vq)
{
%(ref)s    aio_bh_schedule_oneshot(qemu_get_aio_context(), foo_config_bh, vdev); /* REQUEST */
}
""" + VIRTIO_TAIL % ""


def test_a_oneshot_bh_with_the_device_as_opaque_is_a_request(check_snippet):
    """A one-shot BH has no handle to cancel: scheduled with the device as
    opaque, it runs on the freed device if unplug comes first
    (virtio-blk's resize BH)."""
    code = ONESHOT % {"ref": "", "unref": ""}
    assert check_snippet(code) == {("request-not-cancelled", line_of(code, "/* REQUEST */"))}


def test_a_oneshot_bh_holding_a_reference_on_the_device_is_silent(check_snippet):
    """object_ref() before scheduling, object_unref() in the callback (the
    pattern of scsi-bus.c scsi_device_for_each_req_async()): the device
    outlives the BH.  A reference taken but never dropped by the callback
    does not count."""
    held = ONESHOT % {"ref": "    object_ref(OBJECT(vdev));\n", "unref": "    object_unref(OBJECT(vdev));\n"}
    assert check_snippet(held) == set()
    leaked = ONESHOT % {"ref": "    object_ref(OBJECT(vdev));\n", "unref": ""}
    assert ("request-not-cancelled", line_of(leaked, "/* REQUEST */")) in check_snippet(leaked)


def test_a_oneshot_bh_from_a_block_device_callback(check_snippet):
    """The block layer calls a device's BlockDevOps (resize_cb) with the
    device as opaque until the drive is detached at finalize: what such a
    callback schedules is the device's request (virtio-blk's resize)."""
    code = ONESHOT.replace("typedef struct Foo { VirtIODevice parent_obj; VirtQueue *vq; } Foo;", """\
typedef struct BlockBackend BlockBackend;
typedef struct BlockDevOps { void (*resize_cb)(void *opaque); } BlockDevOps;
void blk_set_dev_ops(BlockBackend *blk, const BlockDevOps *ops, void *opaque);
typedef struct Foo { VirtIODevice parent_obj; VirtQueue *vq; BlockBackend *blk; } Foo;""") % {"ref": "", "unref": ""}
    code = code.replace("static void foo_handle(VirtIODevice *vdev, VirtQueue *vq)\n{", """\
static void foo_resize(void *opaque)
{
    VirtIODevice *vdev = opaque;
    aio_bh_schedule_oneshot(qemu_get_aio_context(), foo_config_bh, vdev); /* RESIZE */
}
static const BlockDevOps foo_block_ops = { .resize_cb = foo_resize };
static void foo_handle(VirtIODevice *vdev, VirtQueue *vq)
{""").replace("    s->vq = virtio_add_queue(VIRTIO_DEVICE(dev), 8, foo_handle);",
              "    s->vq = virtio_add_queue(VIRTIO_DEVICE(dev), 8, foo_handle);\n"
              "    blk_set_dev_ops(s->blk, &foo_block_ops, s);")
    assert ("request-not-cancelled", line_of(code, "/* RESIZE */")) in check_snippet(code)
