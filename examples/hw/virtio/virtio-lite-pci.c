/*
 * PCI transports of the example virtio devices (lifecheck example)
 *
 * Shows: where a virtio device's hotplug status comes from.  Each proxy
 * holds one virtio device, created in its instance_init with
 * virtio_instance_init_common(); unplugging the proxy unrealizes it.
 * virtio-clock-pci, virtio-msgbox-pci, virtio-pmem-lite-pci and the
 * virtio-entropy proxies are
 * ordinary hot-pluggable PCI devices; virtio-chime-pci sets
 * hotpluggable = false (as virtio-iommu-pci and virtio-vga do), so
 * virtio-chime-device can never be unplugged.  No findings here.
 *
 * Copyright (c) 2025 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/virtio/virtio-pci.h"
#include "qemu/module.h"
#include "qom/object.h"

/*
 * The devices' structs are private to their files here, so each proxy
 * reserves room for its device after the VirtIODevice header.
 */
#define DEFINE_LITE_PROXY(Vdev)                                         \
    typedef struct Vdev##PCI {                                          \
        VirtIOPCIProxy parent_obj;                                      \
        VirtIODevice vdev;                                              \
        uint8_t opaque[256];                                            \
    } Vdev##PCI;

DEFINE_LITE_PROXY(VirtIOClock)
DEFINE_LITE_PROXY(VirtIOChime)
DEFINE_LITE_PROXY(VirtIOMsgBox)
DEFINE_LITE_PROXY(VirtIOPMemLite)
DEFINE_LITE_PROXY(VirtIOEntropy)

static void virtio_clock_pci_instance_init(Object *obj)
{
    VirtIOClockPCI *dev = (VirtIOClockPCI *)obj;

    virtio_instance_init_common(obj, &dev->vdev, sizeof(dev->opaque), "virtio-clock-device");
}

static void virtio_chime_pci_instance_init(Object *obj)
{
    VirtIOChimePCI *dev = (VirtIOChimePCI *)obj;

    virtio_instance_init_common(obj, &dev->vdev, sizeof(dev->opaque), "virtio-chime-device");
}

static void virtio_msgbox_pci_instance_init(Object *obj)
{
    VirtIOMsgBoxPCI *dev = (VirtIOMsgBoxPCI *)obj;

    virtio_instance_init_common(obj, &dev->vdev, sizeof(dev->opaque), "virtio-msgbox");
}

static void virtio_pmem_lite_pci_instance_init(Object *obj)
{
    VirtIOPMemLitePCI *dev = (VirtIOPMemLitePCI *)obj;

    virtio_instance_init_common(obj, &dev->vdev, sizeof(dev->opaque), "virtio-pmem-lite");
}

static void virtio_entropy_pci_instance_init(Object *obj)
{
    VirtIOEntropyPCI *dev = (VirtIOEntropyPCI *)obj;

    virtio_instance_init_common(obj, &dev->vdev, sizeof(dev->opaque), "virtio-entropy-device");
}

static void virtio_entropy_fixed_pci_instance_init(Object *obj)
{
    VirtIOEntropyPCI *dev = (VirtIOEntropyPCI *)obj;

    virtio_instance_init_common(obj, &dev->vdev, sizeof(dev->opaque), "virtio-entropy-fixed-device");
}

static void virtio_chime_pci_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    /* built into the board's PCI root bus, like virtio-iommu-pci */
    dc->hotpluggable = false;
}

static const TypeInfo virtio_lite_pci_types[] = {
    {
        .name          = "virtio-clock-pci",
        .parent        = TYPE_VIRTIO_PCI,
        .instance_size = sizeof(VirtIOClockPCI),
        .instance_init = virtio_clock_pci_instance_init,
    }, {
        .name          = "virtio-chime-pci",
        .parent        = TYPE_VIRTIO_PCI,
        .instance_size = sizeof(VirtIOChimePCI),
        .instance_init = virtio_chime_pci_instance_init,
        .class_init    = virtio_chime_pci_class_init,
    }, {
        .name          = "virtio-msgbox-pci",
        .parent        = TYPE_VIRTIO_PCI,
        .instance_size = sizeof(VirtIOMsgBoxPCI),
        .instance_init = virtio_msgbox_pci_instance_init,
    }, {
        .name          = "virtio-pmem-lite-pci",
        .parent        = TYPE_VIRTIO_PCI,
        .instance_size = sizeof(VirtIOPMemLitePCI),
        .instance_init = virtio_pmem_lite_pci_instance_init,
    }, {
        .name          = "virtio-entropy-pci",
        .parent        = TYPE_VIRTIO_PCI,
        .instance_size = sizeof(VirtIOEntropyPCI),
        .instance_init = virtio_entropy_pci_instance_init,
    }, {
        .name          = "virtio-entropy-fixed-pci",
        .parent        = TYPE_VIRTIO_PCI,
        .instance_size = sizeof(VirtIOEntropyPCI),
        .instance_init = virtio_entropy_fixed_pci_instance_init,
    },
};

DEFINE_TYPES(virtio_lite_pci_types)
