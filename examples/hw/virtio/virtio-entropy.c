/*
 * Virtio entropy source (lifecheck example)
 *
 * Shows: request-not-cancelled.  The guest puts buffers on the device's
 * queue; the queue handler asks the RNG backend for as many bytes as
 * the buffers hold (rng_backend_request_entropy), with the device as the
 * completion's opaque, and virtio_entropy_receive() fills the buffers
 * when the backend answers, later, from the main loop.
 *
 * Bug: unrealize deletes the queue but leaves the request queued in the
 * backend.  If the device is unplugged while a request is pending, the
 * backend's answer calls virtio_entropy_receive() on the freed device and
 * pops from its freed queue (QEMU's virtio-rng had this bug until 2026).
 *
 * Fix: rng_backend_cancel_requests(s->rng, virtio_entropy_receive, s)
 * first thing in unrealize (hw/virtio/virtio-entropy-fixed.c).
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/virtio/virtio.h"
#include "system/rng.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_VIRTIO_ENTROPY "virtio-entropy-device"
OBJECT_DECLARE_SIMPLE_TYPE(VirtIOEntropy, VIRTIO_ENTROPY)

/* Example device: not a registered virtio device id. */
#define VIRTIO_ID_ENTROPY          0xfff5
#define VIRTIO_ENTROPY_QUEUE_SIZE  8
#define VIRTIO_ENTROPY_CHUNK       64

struct VirtIOEntropy {
    VirtIODevice parent_obj;

    VirtQueue *vq;
    RngBackend *rng;
    uint64_t received;
};

static void virtio_entropy_receive(void *opaque, const void *buf, size_t size)
{
    VirtIOEntropy *s = opaque;

    s->received += size;
    virtio_notify(VIRTIO_DEVICE(s), s->vq);
}

static void virtio_entropy_handle_input(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOEntropy *s = VIRTIO_ENTROPY(vdev);

    rng_backend_request_entropy(s->rng, VIRTIO_ENTROPY_CHUNK, virtio_entropy_receive, s); /* lifecheck: expect[request-not-cancelled] */
}

static uint64_t virtio_entropy_get_features(VirtIODevice *vdev, uint64_t features, Error **errp)
{
    return features;
}

static void virtio_entropy_realize(DeviceState *dev, Error **errp)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VirtIOEntropy *s = VIRTIO_ENTROPY(dev);

    if (s->rng == NULL) {
        error_setg(errp, "'rng' parameter expects a valid object");
        return;
    }
    virtio_init(vdev, VIRTIO_ID_ENTROPY, 0);
    s->vq = virtio_add_queue(vdev, VIRTIO_ENTROPY_QUEUE_SIZE, virtio_entropy_handle_input);
}

static void virtio_entropy_unrealize(DeviceState *dev)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VirtIOEntropy *s = VIRTIO_ENTROPY(dev);

    virtio_delete_queue(s->vq);
    virtio_cleanup(vdev);
}

static void virtio_entropy_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_CLASS(klass);

    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    vdc->realize = virtio_entropy_realize;
    vdc->unrealize = virtio_entropy_unrealize;
    vdc->get_features = virtio_entropy_get_features;
}

static const TypeInfo virtio_entropy_info = {
    .name          = TYPE_VIRTIO_ENTROPY,
    .parent        = TYPE_VIRTIO_DEVICE,
    .instance_size = sizeof(VirtIOEntropy),
    .class_init    = virtio_entropy_class_init,
};

static void virtio_entropy_register_types(void)
{
    type_register_static(&virtio_entropy_info);
}

type_init(virtio_entropy_register_types)
