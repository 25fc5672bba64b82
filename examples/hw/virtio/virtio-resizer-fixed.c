/*
 * Virtio resizable scratch area, fixed (lifecheck example)
 *
 * The fix of hw/virtio/virtio-resizer.c.  A guest request on the queue
 * changes the size of the scratch area; the handler defers
 * virtio_notify_config() to the main loop with a one-shot BH whose
 * opaque is the device, and now holds a reference on the device for it:
 * object_ref() before aio_bh_schedule_oneshot(), object_unref() at the
 * end of the BH.  An unplug before the BH runs only drops the bus's
 * reference; the device is finalized after the BH.
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "block/aio.h"
#include "hw/virtio/virtio.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_VIRTIO_RESIZER "virtio-resizer-fixed-device"
OBJECT_DECLARE_SIMPLE_TYPE(VirtIOResizer, VIRTIO_RESIZER)

/* Example device: not a registered virtio device id. */
#define VIRTIO_ID_RESIZER          0xfff6
#define VIRTIO_RESIZER_QUEUE_SIZE  8

struct VirtIOResizer {
    VirtIODevice parent_obj;

    VirtQueue *vq;
    uint64_t size;
};

static void virtio_resizer_config_bh(void *opaque)
{
    VirtIODevice *vdev = opaque;

    virtio_notify_config(vdev);
    object_unref(OBJECT(vdev));
}

static void virtio_resizer_handle(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOResizer *s = VIRTIO_RESIZER(vdev);

    s->size += 4096;
    object_ref(OBJECT(vdev));
    aio_bh_schedule_oneshot(qemu_get_aio_context(), virtio_resizer_config_bh, vdev); /* lifecheck: ok[request-not-cancelled] */
}

static uint64_t virtio_resizer_get_features(VirtIODevice *vdev, uint64_t features, Error **errp)
{
    return features;
}

static void virtio_resizer_realize(DeviceState *dev, Error **errp)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VirtIOResizer *s = VIRTIO_RESIZER(dev);

    virtio_init(vdev, VIRTIO_ID_RESIZER, sizeof(uint64_t));
    s->vq = virtio_add_queue(vdev, VIRTIO_RESIZER_QUEUE_SIZE, virtio_resizer_handle);
}

static void virtio_resizer_unrealize(DeviceState *dev)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VirtIOResizer *s = VIRTIO_RESIZER(dev);

    virtio_delete_queue(s->vq);
    virtio_cleanup(vdev);
}

static void virtio_resizer_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_CLASS(klass);

    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    vdc->realize = virtio_resizer_realize;
    vdc->unrealize = virtio_resizer_unrealize;
    vdc->get_features = virtio_resizer_get_features;
}

static const TypeInfo virtio_resizer_info = {
    .name          = TYPE_VIRTIO_RESIZER,
    .parent        = TYPE_VIRTIO_DEVICE,
    .instance_size = sizeof(VirtIOResizer),
    .class_init    = virtio_resizer_class_init,
};

static void virtio_resizer_register_types(void)
{
    type_register_static(&virtio_resizer_info);
}

type_init(virtio_resizer_register_types)
