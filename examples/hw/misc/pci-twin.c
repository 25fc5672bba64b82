/*
 * PCI twin (lifecheck example)
 *
 * Shows: realize-error-leak of a device a helper creates in a local and
 * plugs into a bus (the way an SR-IOV PF creates its VFs).
 *
 * realize creates a second function of the device on the same bus:
 * pci_twin_new_function() makes it with qdev_new() and realizes it on the
 * bus, handing it to the caller when that works.
 *
 * Bug: when qdev_realize() fails, the helper returns NULL and the new
 * device is lost: qdev_realize() has already put it on the bus (the bus
 * holds it as a child), and the creation reference is never dropped.
 *
 * Fix: take it off the bus and drop the reference on that error exit,
 * object_unparent(OBJECT(dev)) then object_unref(dev) (as QEMU's
 * pcie_sriov.c does since "pcie_sriov: Release VFs failed to realize").
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-core.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_TWIN "pci-twin"
#define TYPE_PCI_TWIN_FUNCTION "pci-twin-function"
OBJECT_DECLARE_SIMPLE_TYPE(PCITwinState, PCI_TWIN)

struct PCITwinState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    PCIDevice *twin;
};

static PCIDevice *pci_twin_new_function(PCIDevice *pdev, Error **errp)
{
    DeviceState *dev = qdev_new(TYPE_PCI_TWIN_FUNCTION); /* lifecheck: expect[realize-error-leak] */

    if (!qdev_realize(dev, qdev_get_parent_bus(DEVICE(pdev)), errp)) {
        return NULL;
    }
    return PCI_DEVICE(dev);
}

static void pci_twin_realize(PCIDevice *pdev, Error **errp)
{
    PCITwinState *s = PCI_TWIN(pdev);

    s->twin = pci_twin_new_function(pdev, errp);
}

static void pci_twin_exit(PCIDevice *pdev)
{
    PCITwinState *s = PCI_TWIN(pdev);

    object_unparent(OBJECT(s->twin));
    object_unref(s->twin);
}

static void pci_twin_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_twin_realize;
    k->exit = pci_twin_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10fc;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
}

static const TypeInfo pci_twin_info = {
    .name          = TYPE_PCI_TWIN,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCITwinState),
    .class_init    = pci_twin_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_twin_register_types(void)
{
    type_register_static(&pci_twin_info);
}

type_init(pci_twin_register_types)
