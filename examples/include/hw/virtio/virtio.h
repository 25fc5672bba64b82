/*
 * Virtio devices (lifecheck examples tree)
 *
 * A virtio device sits on a virtio bus, behind a transport (virtio-pci,
 * virtio-mmio, ...), and goes away with it when the transport is
 * unplugged.  VirtioDeviceClass.realize / .unrealize are its hooks.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_VIRTIO_H
#define QEMU_VIRTIO_H

#include "hw/qdev-core.h"
#include "system/memory.h"
#include "standard-headers/linux/virtio_ids.h"

typedef struct VirtQueue VirtQueue;

#define TYPE_VIRTIO_DEVICE "virtio-device"
OBJECT_DECLARE_TYPE(VirtIODevice, VirtioDeviceClass, VIRTIO_DEVICE)

struct VirtIODevice
{
    DeviceState parent_obj;
    const char *name;
    uint8_t status;
    uint8_t isr;
    uint16_t queue_sel;
    uint64_t host_features;
    uint64_t guest_features;
    size_t config_len;
    void *config;
    uint16_t device_id;
};

struct VirtioDeviceClass {
    /*< private >*/
    DeviceClass parent;
    /*< public >*/

    /* This is what a VirtioDevice must implement */
    DeviceRealize realize;
    DeviceUnrealize unrealize;
    uint64_t (*get_features)(VirtIODevice *vdev,
                             uint64_t requested_features,
                             Error **errp);
    void (*set_features)(VirtIODevice *vdev, uint64_t val);
    void (*get_config)(VirtIODevice *vdev, uint8_t *config);
    void (*set_config)(VirtIODevice *vdev, const uint8_t *config);
    void (*reset)(VirtIODevice *vdev);
    int (*set_status)(VirtIODevice *vdev, uint8_t val);
};

void virtio_init(VirtIODevice *vdev, uint16_t device_id, size_t config_size);
void virtio_cleanup(VirtIODevice *vdev);

typedef void (*VirtIOHandleOutput)(VirtIODevice *, VirtQueue *);

VirtQueue *virtio_add_queue(VirtIODevice *vdev, int queue_size,
                            VirtIOHandleOutput handle_output);
void virtio_del_queue(VirtIODevice *vdev, int n);
void virtio_delete_queue(VirtQueue *vq);

void virtio_notify(VirtIODevice *vdev, VirtQueue *vq);
void virtio_notify_config(VirtIODevice *vdev);

#endif /* QEMU_VIRTIO_H */
