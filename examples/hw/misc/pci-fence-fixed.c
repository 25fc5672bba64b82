/*
 * PCI fence, fixed (lifecheck example)
 *
 * Shows: no findings.  The same device as pci-fence.c with the error exit
 * after migrate_add_blocker() removing the blocker again:
 * migrate_del_blocker(&s->blocker) takes it off the global list and, since
 * QEMU 8.2, frees the Error and clears the field.
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "migration/blocker.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_FENCE "pci-fence-fixed"
OBJECT_DECLARE_SIMPLE_TYPE(PCIFenceState, PCI_FENCE)

#define PCI_FENCE_MAX_WINDOW 0x1000

struct PCIFenceState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    Error *blocker;
    bool migratable;
    uint32_t window_size;
};

static void pci_fence_realize(PCIDevice *pdev, Error **errp)
{
    PCIFenceState *s = PCI_FENCE(pdev);

    if (!s->migratable) {
        error_setg(&s->blocker, "pci-fence: window state is not migratable");
        if (migrate_add_blocker(&s->blocker, errp) < 0) {
            return;
        }
    }

    if (s->window_size > PCI_FENCE_MAX_WINDOW) {
        error_setg(errp, "pci-fence: window-size must be at most %d", PCI_FENCE_MAX_WINDOW);
        migrate_del_blocker(&s->blocker);
        return;
    }

    pci_config_set_interrupt_pin(pdev->config, 1);
}

static void pci_fence_exit(PCIDevice *pdev)
{
    PCIFenceState *s = PCI_FENCE(pdev);

    migrate_del_blocker(&s->blocker);
}

static const Property pci_fence_properties[] = {
    DEFINE_PROP_BOOL("migratable", PCIFenceState, migratable, false),
    DEFINE_PROP_UINT32("window-size", PCIFenceState, window_size, 0x100),
};

static void pci_fence_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_fence_realize;
    k->exit = pci_fence_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10fa;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
    dc->desc = "PCI fence";
    device_class_set_props(dc, pci_fence_properties);
}

static const TypeInfo pci_fence_info = {
    .name          = TYPE_PCI_FENCE,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIFenceState),
    .class_init    = pci_fence_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_fence_register_types(void)
{
    type_register_static(&pci_fence_info);
}

type_init(pci_fence_register_types)
