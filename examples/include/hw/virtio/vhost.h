/*
 * vhost devices (lifecheck examples): the part of QEMU's
 * include/hw/virtio/vhost.h the examples use, written for them.
 *
 * vhost_dev_init() sets up a vhost_dev over a backend; when it fails it
 * has already run vhost_dev_cleanup(), which closes the kernel backend's
 * descriptor passed as opaque and zeroes the whole vhost_dev.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_VHOST_H
#define QEMU_VHOST_H

#include "hw/virtio/virtio.h"

typedef enum VhostBackendType {
    VHOST_BACKEND_TYPE_NONE = 0,
    VHOST_BACKEND_TYPE_KERNEL = 1,
    VHOST_BACKEND_TYPE_USER = 2,
} VhostBackendType;

struct vhost_virtqueue {
    int kick;
    int call;
    void *desc;
};

struct vhost_dev {
    VirtIODevice *vdev;
    struct vhost_virtqueue *vqs;
    unsigned int nvqs;
    int vq_index;
    uint64_t backend_features;
    void *opaque;
};

int vhost_dev_init(struct vhost_dev *hdev, void *opaque,
                   VhostBackendType backend_type,
                   uint32_t busyloop_timeout, Error **errp);
/* stops the device and ends with a memset() of the whole struct vhost_dev */
void vhost_dev_cleanup(struct vhost_dev *hdev);

#endif
