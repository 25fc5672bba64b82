/*
 * PCI VM run-state watcher, fixed (lifecheck example)
 *
 * Shows: no findings.  The pci-vmwatch.c example with the handle of its
 * VM change state handler kept in the device state and the handler
 * removed in exit with qemu_del_vm_change_state_handler().
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/irq.h"
#include "hw/pci/pci_device.h"
#include "system/runstate.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_VMWATCH_FIXED "pci-vmwatch-fixed"
OBJECT_DECLARE_SIMPLE_TYPE(PCIVmwatchFixedState, PCI_VMWATCH_FIXED)

#define PCI_VMWATCH_POLL_MS 50

struct PCIVmwatchFixedState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    QEMUTimer *poll;
    VMChangeStateEntry *vmstate;
    uint32_t polls;
    bool running;
};

static void pci_vmwatch_fixed_poll(void *opaque)
{
    PCIVmwatchFixedState *s = opaque;

    s->polls++;
    timer_mod(s->poll, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + PCI_VMWATCH_POLL_MS * 1000000);
}

static void pci_vmwatch_fixed_vm_state(void *opaque, bool running, RunState state)
{
    PCIVmwatchFixedState *s = opaque;

    s->running = running;
    pci_set_irq(PCI_DEVICE(s), 1);
}

static void pci_vmwatch_fixed_realize(PCIDevice *pdev, Error **errp)
{
    PCIVmwatchFixedState *s = PCI_VMWATCH_FIXED(pdev);

    pci_config_set_interrupt_pin(pdev->config, 1);
    s->poll = timer_new_ns(QEMU_CLOCK_VIRTUAL, pci_vmwatch_fixed_poll, s);
    s->vmstate = qemu_add_vm_change_state_handler(pci_vmwatch_fixed_vm_state, s);
}

static void pci_vmwatch_fixed_exit(PCIDevice *pdev)
{
    PCIVmwatchFixedState *s = PCI_VMWATCH_FIXED(pdev);

    timer_free(s->poll);
    qemu_del_vm_change_state_handler(s->vmstate);
}

static void pci_vmwatch_fixed_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_vmwatch_fixed_realize;
    k->exit = pci_vmwatch_fixed_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x1135;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
    dc->desc = "PCI VM run-state watcher (fixed)";
}

static const TypeInfo pci_vmwatch_fixed_info = {
    .name          = TYPE_PCI_VMWATCH_FIXED,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIVmwatchFixedState),
    .class_init    = pci_vmwatch_fixed_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_vmwatch_fixed_register_types(void)
{
    type_register_static(&pci_vmwatch_fixed_info);
}

type_init(pci_vmwatch_fixed_register_types)
