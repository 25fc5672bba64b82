/*
 * Virtio PCI transport (lifecheck examples tree)
 *
 * A virtio PCI proxy is a PCI device that holds one virtio device as its
 * child: virtio_instance_init_common() creates it in the proxy's
 * instance_init, and unplugging the proxy unrealizes it.  So a virtio
 * device can be hot-unplugged exactly when one of its proxies can.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_VIRTIO_PCI_H
#define QEMU_VIRTIO_PCI_H

#include "hw/pci/pci_device.h"
#include "hw/virtio/virtio.h"

#define TYPE_VIRTIO_PCI "virtio-pci"

typedef struct VirtIOPCIProxy {
    PCIDevice pci_dev;
    uint32_t flags;
} VirtIOPCIProxy;

/*
 * virtio_instance_init_common: initialise the embedded virtio device
 * @data (of @vdev_size bytes) as a child of @proxy_obj, of type
 * @vdev_name.
 */
void virtio_instance_init_common(Object *proxy_obj, void *data,
                                 size_t vdev_size, const char *vdev_name);

#endif /* QEMU_VIRTIO_PCI_H */
