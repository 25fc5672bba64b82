/*
 * PCI fence (lifecheck example)
 *
 * Shows: realize-error-leak of an Error object the device keeps (a
 * migration blocker's reason), on a hot-pluggable PCI device.
 *
 * The fence exposes a window of guest-visible registers that the host
 * cannot migrate yet, unless the "migratable" property says the user
 * takes care of it.  Otherwise realize installs a migration blocker: it
 * sets an Error into the device's own field (error_setg(&s->blocker,
 * ...)) and hands its address to migrate_add_blocker().  The Error is the
 * device's: migrate_del_blocker(&s->blocker) removes the blocker and, since
 * QEMU 8.2, frees it (in 7.2 the device also had to error_free() it).
 *
 * Bug: when the window size is invalid, realize fails after the blocker
 * was added, and the exit leaves both the blocker on the global list
 * and its Error allocated (realize-error-leak, reported at the
 * error_setg() and at the migrate_add_blocker() call).
 *
 * Fix (pci-fence-fixed.c): migrate_del_blocker(&s->blocker) on that exit.
 *
 * Correct, and not reported: the exit taken when migrate_add_blocker()
 * fails (since 8.2 the failing call frees the Error and clears the
 * field), the Error set into errp (the caller's), and the blocker
 * removed in exit.
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

#define TYPE_PCI_FENCE "pci-fence"
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
        error_setg(&s->blocker, "pci-fence: window state is not migratable"); /* lifecheck: expect[realize-error-leak] */
        if (migrate_add_blocker(&s->blocker, errp) < 0) { /* lifecheck: expect[realize-error-leak] */
            return;
        }
    }

    if (s->window_size > PCI_FENCE_MAX_WINDOW) {
        error_setg(errp, "pci-fence: window-size must be at most %d", PCI_FENCE_MAX_WINDOW);
        /* missing: migrate_del_blocker(&s->blocker) */
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
