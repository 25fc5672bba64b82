/*
 * PCI beacon: blinks an interrupt on a timer (lifecheck example)
 *
 * Shows: double-release and use-after-release along one teardown
 * (unrealize, then instance_finalize) of a hot-pluggable PCI device
 * (severity: error).
 *
 * Bugs:
 *  - pci_beacon_exit() frees the blink timer and then deletes it:
 *    timer_del() on freed memory (use-after-release).  timer_free()
 *    already deletes a pending timer;
 *  - the pulse timer is freed in exit and again in instance_finalize,
 *    which always runs after exit on hot-unplug (double-release).
 *
 * Fixes: drop the timer_del(); free the pulse timer in one place only, or
 * clear the field after freeing it, as the sweep timer below does (that
 * one is correct: timer_free(NULL) is allowed, and it is not reported).
 *
 * Copyright (c) 2025 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/irq.h"
#include "hw/pci/pci_device.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_BEACON "pci-beacon"
OBJECT_DECLARE_SIMPLE_TYPE(PCIBeaconState, PCI_BEACON)

struct PCIBeaconState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    QEMUTimer *blink;
    QEMUTimer *pulse;
    QEMUTimer *sweep;
    bool lit;
};

static void pci_beacon_blink(void *opaque)
{
    PCIBeaconState *s = opaque;

    s->lit = !s->lit;
    pci_set_irq(PCI_DEVICE(s), s->lit);
    timer_mod(s->blink, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + 500000000);
}

static void pci_beacon_realize(PCIDevice *pdev, Error **errp)
{
    PCIBeaconState *s = PCI_BEACON(pdev);

    s->blink = timer_new_ms(QEMU_CLOCK_VIRTUAL, pci_beacon_blink, s);
    s->pulse = timer_new_ms(QEMU_CLOCK_VIRTUAL, pci_beacon_blink, s);
    s->sweep = timer_new_ms(QEMU_CLOCK_VIRTUAL, pci_beacon_blink, s);
}

static void pci_beacon_exit(PCIDevice *pdev)
{
    PCIBeaconState *s = PCI_BEACON(pdev);

    timer_free(s->blink);
    timer_del(s->blink);                 /* lifecheck: expect[use-after-release] */
    timer_free(s->pulse);
    timer_free(s->sweep);
    s->sweep = NULL;
}

static void pci_beacon_finalize(Object *obj)
{
    PCIBeaconState *s = PCI_BEACON(obj);

    timer_free(s->pulse);                /* lifecheck: expect[double-release] */
    timer_free(s->sweep);                /* lifecheck: ok[double-release] */
}

static void pci_beacon_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_beacon_realize;
    k->exit = pci_beacon_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10f8;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
}

static const TypeInfo pci_beacon_info = {
    .name          = TYPE_PCI_BEACON,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIBeaconState),
    .instance_finalize = pci_beacon_finalize,
    .class_init    = pci_beacon_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_beacon_register_types(void)
{
    type_register_static(&pci_beacon_info);
}

type_init(pci_beacon_register_types)
