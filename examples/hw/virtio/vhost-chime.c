/*
 * vhost chime (lifecheck example)
 *
 * Shows: an acquisition whose own failure path already releases its inputs
 * (rules/api on_failure): double-release and realize-error-leak.
 *
 * The device hands its virtqueues to an in-kernel vhost backend: realize
 * opens /dev/vhost-chime, allocates the vhost_virtqueue array into
 * s->vhost_dev.vqs and calls vhost_dev_init() with the descriptor.
 *
 * Bugs (the shape of vhost-scsi and vhost-vsock before QEMU 7.2): when
 * vhost_dev_init() fails it has already run vhost_dev_cleanup(), which
 * closes the descriptor it was handed and zeroes the whole vhost_dev.
 * - the error path closes vhostfd again (double-release, at the close());
 * - g_free(s->vhost_dev.vqs) frees NULL: the array leaks
 *   (realize-error-leak, at the allocation).
 *
 * Fix: vhost-chime-fixed.c (keep the array in a local, forget the
 * descriptor once vhost_dev_init() has taken it).
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

#define TYPE_VHOST_CHIME "vhost-chime-device"
OBJECT_DECLARE_SIMPLE_TYPE(VHostChime, VHOST_CHIME)

/* Example device: not a registered virtio device id. */
#define VIRTIO_ID_VHOST_CHIME    0xfff5
#define VHOST_CHIME_QUEUES       2

struct VHostChime {
    VirtIODevice parent_obj;

    struct vhost_dev vhost_dev;
};

static uint64_t vhost_chime_get_features(VirtIODevice *vdev, uint64_t features, Error **errp)
{
    return features;
}

static void vhost_chime_realize(DeviceState *dev, Error **errp)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VHostChime *s = VHOST_CHIME(dev);
    int vhostfd;
    int ret;

    vhostfd = open("/dev/vhost-chime", O_RDWR);
    if (vhostfd < 0) {
        error_setg(errp, "vhost-chime: cannot open /dev/vhost-chime");
        return;
    }

    virtio_init(vdev, VIRTIO_ID_VHOST_CHIME, 0);
    s->vhost_dev.nvqs = VHOST_CHIME_QUEUES;
    s->vhost_dev.vqs = g_new0(struct vhost_virtqueue, s->vhost_dev.nvqs); /* lifecheck: expect[realize-error-leak] */
    s->vhost_dev.vq_index = 0;

    ret = vhost_dev_init(&s->vhost_dev, (void *)(uintptr_t)vhostfd,
                         VHOST_BACKEND_TYPE_KERNEL, 0, errp);
    if (ret < 0) {
        goto err_vqs;
    }
    return;

err_vqs:
    g_free(s->vhost_dev.vqs);
    virtio_cleanup(vdev);
    close(vhostfd); /* lifecheck: expect[double-release] */
}

static void vhost_chime_unrealize(DeviceState *dev)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VHostChime *s = VHOST_CHIME(dev);
    struct vhost_virtqueue *vqs = s->vhost_dev.vqs;

    vhost_dev_cleanup(&s->vhost_dev);
    g_free(vqs);
    virtio_cleanup(vdev);
}

static void vhost_chime_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_CLASS(klass);

    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    vdc->realize = vhost_chime_realize;
    vdc->unrealize = vhost_chime_unrealize;
    vdc->get_features = vhost_chime_get_features;
}

static const TypeInfo vhost_chime_info = {
    .name          = TYPE_VHOST_CHIME,
    .parent        = TYPE_VIRTIO_DEVICE,
    .instance_size = sizeof(VHostChime),
    .class_init    = vhost_chime_class_init,
};

static void vhost_chime_register_types(void)
{
    type_register_static(&vhost_chime_info);
}

type_init(vhost_chime_register_types)
