/*
 * PCI VM run-state watcher (lifecheck example)
 *
 * Shows: leak-on-unrealize of a registration whose handle the device
 * drops (severity: error on a hot-pluggable PCI device).
 *
 * The card raises its interrupt whenever the VM stops or starts (a VM
 * change state handler) and polls a status register on a timer.
 *
 * Bug: pci_vmwatch_realize() registers the handler with
 * qemu_add_vm_change_state_handler() and throws away the
 * VMChangeStateEntry it returns.  Nothing can ever remove the handler:
 * after unplug, the next stop or start of the VM calls
 * pci_vmwatch_vm_state() on the freed device.
 *
 * Fix: keep the handle in the device state and remove the handler in
 * exit with qemu_del_vm_change_state_handler() (pci-vmwatch-fixed.c; the
 * name `vmstate` is the one hw/usb/hcd-ehci.c and hw/virtio/virtio-rng.c
 * use).
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

#define TYPE_PCI_VMWATCH "pci-vmwatch"
OBJECT_DECLARE_SIMPLE_TYPE(PCIVmwatchState, PCI_VMWATCH)

#define PCI_VMWATCH_POLL_MS 50

struct PCIVmwatchState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    QEMUTimer *poll;
    uint32_t polls;
    bool running;
};

static void pci_vmwatch_poll(void *opaque)
{
    PCIVmwatchState *s = opaque;

    s->polls++;
    timer_mod(s->poll, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + PCI_VMWATCH_POLL_MS * 1000000);
}

static void pci_vmwatch_vm_state(void *opaque, bool running, RunState state)
{
    PCIVmwatchState *s = opaque;

    s->running = running;
    pci_set_irq(PCI_DEVICE(s), 1);
}

static void pci_vmwatch_realize(PCIDevice *pdev, Error **errp)
{
    PCIVmwatchState *s = PCI_VMWATCH(pdev);

    pci_config_set_interrupt_pin(pdev->config, 1);
    s->poll = timer_new_ns(QEMU_CLOCK_VIRTUAL, pci_vmwatch_poll, s);
    qemu_add_vm_change_state_handler(pci_vmwatch_vm_state, s); /* lifecheck: expect[leak-on-unrealize] */
}

static void pci_vmwatch_exit(PCIDevice *pdev)
{
    PCIVmwatchState *s = PCI_VMWATCH(pdev);

    timer_free(s->poll);
}

static void pci_vmwatch_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_vmwatch_realize;
    k->exit = pci_vmwatch_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x1134;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
    dc->desc = "PCI VM run-state watcher";
}

static const TypeInfo pci_vmwatch_info = {
    .name          = TYPE_PCI_VMWATCH,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIVmwatchState),
    .class_init    = pci_vmwatch_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_vmwatch_register_types(void)
{
    type_register_static(&pci_vmwatch_info);
}

type_init(pci_vmwatch_register_types)
