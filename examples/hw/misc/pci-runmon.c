/*
 * PCI run-state monitor (lifecheck example)
 *
 * Shows: double-release of a registration (not of memory the device
 * allocated) on a hot-pluggable PCI device (severity: error), next to a
 * release that QEMU makes harmless to repeat.
 *
 * The card raises its interrupt whenever the VM stops or starts (a VM
 * change state handler) and, while the VM runs, counts heartbeats on a
 * timer embedded in its state.
 *
 * Bug: pci_runmon_exit() deletes the VM change state handler, and
 * pci_runmon_finalize(), which always runs after it on hot-unplug,
 * deletes it again.  qemu_del_vm_change_state_handler() unlinks the entry
 * with QTAILQ_REMOVE() and g_free()s it: the second call reads the freed
 * entry, writes through the links the first one cleared, and frees it
 * again (double-release).
 *
 * Fix: delete the handler in exit only (or set s->vmse = NULL there and
 * test it in finalize).
 *
 * Correct, and not reported: the heartbeat timer, stopped with timer_del()
 * in exit and again in finalize.  timer_del() searches the timer list for
 * the timer and does nothing when it is not there (util/qemu-timer.c), so
 * rules/api marks it idempotent.
 *
 * Copyright (c) 2025 The lifecheck authors
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

#define TYPE_PCI_RUNMON "pci-runmon"
OBJECT_DECLARE_SIMPLE_TYPE(PCIRunmonState, PCI_RUNMON)

#define PCI_RUNMON_HEARTBEAT_MS 100

struct PCIRunmonState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    VMChangeStateEntry *vmse;
    QEMUTimer heartbeat;
    uint32_t beats;
    bool running;
};

static void pci_runmon_beat(void *opaque)
{
    PCIRunmonState *s = opaque;

    s->beats++;
    timer_mod(&s->heartbeat,
              qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + PCI_RUNMON_HEARTBEAT_MS * 1000000);
}

static void pci_runmon_vm_state(void *opaque, bool running, RunState state)
{
    PCIRunmonState *s = opaque;

    s->running = running;
    pci_set_irq(PCI_DEVICE(s), 1);
    if (running) {
        pci_runmon_beat(s);
    } else {
        timer_del(&s->heartbeat);
    }
}

static void pci_runmon_realize(PCIDevice *pdev, Error **errp)
{
    PCIRunmonState *s = PCI_RUNMON(pdev);

    pci_config_set_interrupt_pin(pdev->config, 1);
    timer_init_ms(&s->heartbeat, QEMU_CLOCK_VIRTUAL, pci_runmon_beat, s);
    s->vmse = qemu_add_vm_change_state_handler(pci_runmon_vm_state, s);
}

static void pci_runmon_exit(PCIDevice *pdev)
{
    PCIRunmonState *s = PCI_RUNMON(pdev);

    qemu_del_vm_change_state_handler(s->vmse);
    timer_del(&s->heartbeat);
}

static void pci_runmon_finalize(Object *obj)
{
    PCIRunmonState *s = PCI_RUNMON(obj);

    qemu_del_vm_change_state_handler(s->vmse);  /* lifecheck: expect[double-release] */
    timer_del(&s->heartbeat);                   /* lifecheck: ok[double-release] */
}

static void pci_runmon_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_runmon_realize;
    k->exit = pci_runmon_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10f9;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
    dc->desc = "PCI run-state monitor";
}

static const TypeInfo pci_runmon_info = {
    .name          = TYPE_PCI_RUNMON,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIRunmonState),
    .instance_finalize = pci_runmon_finalize,
    .class_init    = pci_runmon_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_runmon_register_types(void)
{
    type_register_static(&pci_runmon_info);
}

type_init(pci_runmon_register_types)
