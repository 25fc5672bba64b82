/*
 * PCI-to-ISA bridge of a small board (lifecheck example)
 *
 * Shows: a PCI device that is never unplugged because it makes the
 * machine's ISA bus.  A machine has one ISA bus (isa_bus_new() refuses a
 * second), so the only pci-lpc-lite is the one the board builds in: it
 * cannot be hot-added, and nothing unplugs it.  Its findings hold only in
 * principle; the default view hides them (--show-all shows them).
 *
 * Bug (in principle): realize registers a powerdown notifier and exit
 * does not remove it.  Were the bridge unplugged, the next
 * system_powerdown would call into freed memory.
 *
 * Fix: notifier_remove(&s->powerdown) in pci_lpc_lite_exit().
 *
 * Copyright (c) 2025 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/isa/isa.h"
#include "system/address-spaces.h"
#include "system/runstate.h"
#include "qemu/notify.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_LPC_LITE "pci-lpc-lite"
OBJECT_DECLARE_SIMPLE_TYPE(PCILPCLiteState, PCI_LPC_LITE)

struct PCILPCLiteState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    ISABus *isa_bus;
    Notifier powerdown;
    uint32_t pm_status;
};

static void pci_lpc_lite_powerdown(Notifier *n, void *opaque)
{
    PCILPCLiteState *s = container_of(n, PCILPCLiteState, powerdown);

    s->pm_status |= 1;
}

static void pci_lpc_lite_realize(PCIDevice *pdev, Error **errp)
{
    PCILPCLiteState *s = PCI_LPC_LITE(pdev);

    s->isa_bus = isa_bus_new(DEVICE(pdev), get_system_memory(), get_system_io(), errp);
    if (!s->isa_bus) {
        return;
    }
    s->powerdown.notify = pci_lpc_lite_powerdown;
    qemu_register_powerdown_notifier(&s->powerdown); /* lifecheck: expect[leak-on-unrealize] */
}

static void pci_lpc_lite_exit(PCIDevice *pdev)
{
    PCILPCLiteState *s = PCI_LPC_LITE(pdev);

    s->pm_status = 0;
}

static void pci_lpc_lite_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_lpc_lite_realize;
    k->exit = pci_lpc_lite_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10fa;
    k->class_id = PCI_CLASS_BRIDGE_ISA;
    dc->desc = "PCI-to-ISA bridge";
}

static const TypeInfo pci_lpc_lite_info = {
    .name          = TYPE_PCI_LPC_LITE,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCILPCLiteState),
    .class_init    = pci_lpc_lite_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_lpc_lite_register_types(void)
{
    type_register_static(&pci_lpc_lite_info);
}

type_init(pci_lpc_lite_register_types)
