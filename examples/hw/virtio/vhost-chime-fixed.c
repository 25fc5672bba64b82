/*
 * vhost chime, fixed (lifecheck example)
 *
 * Shows: the fix of vhost-chime.c's double-release and realize-error-leak.
 *
 * The device hands its virtqueues to an in-kernel vhost backend: realize
 * opens /dev/vhost-chime, allocates the vhost_virtqueue array into
 * s->vhost_dev.vqs and calls vhost_dev_init() with the descriptor.
 *
 * Fixed variant of vhost-chime.c: the vqs array is kept in a local (what
 * vhost_dev_init() wipes from s->vhost_dev is still freed) and vhostfd is
 * forgotten once vhost_dev_init() has taken it, failed or not.  No finding.
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

#define TYPE_VHOST_CHIME_FIXED "vhost-chime-fixed-device"
OBJECT_DECLARE_SIMPLE_TYPE(VHostChimeFixed, VHOST_CHIME_FIXED)

/* Example device: not a registered virtio device id. */
#define VIRTIO_ID_VHOST_CHIME_FIXED    0xfff6
#define VHOST_CHIME_FIXED_QUEUES       2

struct VHostChimeFixed {
    VirtIODevice parent_obj;

    struct vhost_dev vhost_dev;
};

static uint64_t vhost_chime_fixed_get_features(VirtIODevice *vdev, uint64_t features, Error **errp)
{
    return features;
}

static void vhost_chime_fixed_realize(DeviceState *dev, Error **errp)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VHostChimeFixed *s = VHOST_CHIME_FIXED(dev);
    struct vhost_virtqueue *vqs;
    int vhostfd;
    int ret;

    vhostfd = open("/dev/vhost-chime", O_RDWR);
    if (vhostfd < 0) {
        error_setg(errp, "vhost-chime: cannot open /dev/vhost-chime");
        return;
    }

    virtio_init(vdev, VIRTIO_ID_VHOST_CHIME_FIXED, 0);
    s->vhost_dev.nvqs = VHOST_CHIME_FIXED_QUEUES;
    vqs = g_new0(struct vhost_virtqueue, s->vhost_dev.nvqs);
    s->vhost_dev.vqs = vqs;
    s->vhost_dev.vq_index = 0;

    ret = vhost_dev_init(&s->vhost_dev, (void *)(uintptr_t)vhostfd,
                         VHOST_BACKEND_TYPE_KERNEL, 0, errp);
    if (ret < 0) {
        /* vhost_dev_cleanup() has closed vhostfd and wiped s->vhost_dev */
        vhostfd = -1;
        goto err_vqs;
    }
    return;

err_vqs:
    g_free(vqs);
    virtio_cleanup(vdev);
    if (vhostfd >= 0) {
        close(vhostfd);
    }
}

static void vhost_chime_fixed_unrealize(DeviceState *dev)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VHostChimeFixed *s = VHOST_CHIME_FIXED(dev);
    struct vhost_virtqueue *vqs = s->vhost_dev.vqs;

    vhost_dev_cleanup(&s->vhost_dev);
    g_free(vqs);
    virtio_cleanup(vdev);
}

static void vhost_chime_fixed_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_CLASS(klass);

    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    vdc->realize = vhost_chime_fixed_realize;
    vdc->unrealize = vhost_chime_fixed_unrealize;
    vdc->get_features = vhost_chime_fixed_get_features;
}

static const TypeInfo vhost_chime_fixed_info = {
    .name          = TYPE_VHOST_CHIME_FIXED,
    .parent        = TYPE_VIRTIO_DEVICE,
    .instance_size = sizeof(VHostChimeFixed),
    .class_init    = vhost_chime_fixed_class_init,
};

static void vhost_chime_fixed_register_types(void)
{
    type_register_static(&vhost_chime_fixed_info);
}

type_init(vhost_chime_fixed_register_types)
