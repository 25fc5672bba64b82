/*
 * vhost-lite (lifecheck example)
 *
 * Shows: use-after-release of a field read after the call that wipes its
 * struct (vhost_dev_cleanup() zeroes the whole struct vhost_dev).
 *
 * realize allocates the vhost virtqueues and hands them to vhost in
 * s->vhost_dev.vqs; unrealize cleans the vhost device up, then frees them.
 *
 * Bug: vhost_dev_cleanup() ends with memset(hdev, 0, ...): the
 * g_free(s->vhost_dev.vqs) after it frees NULL, and the virtqueues leak
 * on every unplug (QEMU's vhost-user-fs had it until "vhost-user-fs: Back
 * up vqs before cleaning up vhost_dev").
 *
 * Fix: read the pointer into a local before the cleanup and free that
 * (freeing it before the cleanup would free what the cleanup still uses).
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/virtio/virtio.h"
#include "hw/virtio/vhost.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_VHOST_LITE "vhost-lite-device"
OBJECT_DECLARE_SIMPLE_TYPE(VHostLite, VHOST_LITE)

/* Example device: not a registered virtio device id. */
#define VIRTIO_ID_VHOST_LITE       0xfff4
#define VHOST_LITE_QUEUES          2

struct VHostLite {
    VirtIODevice parent_obj;

    struct vhost_dev vhost_dev;
    VirtQueue *vq;
};

static void vhost_lite_handle_output(VirtIODevice *vdev, VirtQueue *vq)
{
}

static void vhost_lite_realize(DeviceState *dev, Error **errp)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VHostLite *s = VHOST_LITE(dev);

    virtio_init(vdev, VIRTIO_ID_VHOST_LITE, 0);
    s->vq = virtio_add_queue(vdev, 128, vhost_lite_handle_output);
    s->vhost_dev.nvqs = VHOST_LITE_QUEUES;
    s->vhost_dev.vqs = g_new0(struct vhost_virtqueue, VHOST_LITE_QUEUES); /* lifecheck: expect[realize-error-leak] */
    if (vhost_dev_init(&s->vhost_dev, s, VHOST_BACKEND_TYPE_KERNEL, 0, errp) < 0) {
        g_free(s->vhost_dev.vqs);
        virtio_delete_queue(s->vq);
        virtio_cleanup(vdev);
        return;
    }
}

static void vhost_lite_unrealize(DeviceState *dev)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VHostLite *s = VHOST_LITE(dev);

    vhost_dev_cleanup(&s->vhost_dev);
    virtio_delete_queue(s->vq);
    virtio_cleanup(vdev);
    g_free(s->vhost_dev.vqs); /* lifecheck: expect[use-after-release] */
}

static uint64_t vhost_lite_get_features(VirtIODevice *vdev, uint64_t features, Error **errp)
{
    return features;
}

static void vhost_lite_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_CLASS(klass);

    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    vdc->realize = vhost_lite_realize;
    vdc->unrealize = vhost_lite_unrealize;
    vdc->get_features = vhost_lite_get_features;
}

static const TypeInfo vhost_lite_info = {
    .name          = TYPE_VHOST_LITE,
    .parent        = TYPE_VIRTIO_DEVICE,
    .instance_size = sizeof(VHostLite),
    .class_init    = vhost_lite_class_init,
};

static void vhost_lite_register_types(void)
{
    type_register_static(&vhost_lite_info);
}

type_init(vhost_lite_register_types)
