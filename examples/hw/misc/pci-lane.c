/*
 * PCI lane (lifecheck example)
 *
 * Shows: leak-on-unrealize where teardown goes through function pointers.
 * An abstract base device, "pci-lane", runs its subtypes' set-up and
 * teardown through callbacks of its class (PCILaneClass.lane_init and
 * .lane_fini, stored by the subtype's class_init) and hands the ring to
 * its back end through a static ops table (PCILaneBackendOps).  lifecheck
 * resolves both kinds of pointer: the class field from the class_init
 * assignments of the device's type (any subtype's, for the abstract
 * base), the ops field from the file-scope initialisers that fill it.
 * Before, a call through a pointer was a call lifecheck could not see
 * into: the ring the back end frees looked leaked, what the tx lane's
 * lane_init acquires was not seen at all, and a resource handed to such a
 * call counted as released by it.
 *
 * Bugs:
 *  - the poll timer the base's realize creates is freed by no teardown
 *    code (leak-on-unrealize): pci_lane_exit() hands the device to
 *    lc->lane_fini() and s->ops->backend_detach(), and neither frees it;
 *  - the INTx line the tx lane's lane_init allocates is never freed
 *    (leak-on-unrealize, reported in the callback, under realize).
 *
 * Fixes: timer_free(s->poll) in pci_lane_exit(); qemu_free_irq(s->irq)
 * in pci_lane_tx_fini() (pci-lane-fixed.c).
 *
 * Correct, and not reported: the tx timer (freed by lane_fini) and the
 * ring (freed by the loopback back end's backend_detach).
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/irq.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_device.h"
#include "qemu/module.h"
#include "qom/object.h"

#define PCI_LANE_RING_SIZE 4096

#define TYPE_PCI_LANE "pci-lane"
OBJECT_DECLARE_TYPE(PCILaneState, PCILaneClass, PCI_LANE)

#define TYPE_PCI_LANE_TX "pci-lane-tx"

typedef struct PCILaneBackendOps {
    void (*backend_detach)(PCILaneState *s);
} PCILaneBackendOps;

struct PCILaneState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    const PCILaneBackendOps *ops;
    QEMUTimer *poll;
    QEMUTimer *tx_timer;
    uint8_t *ring;
    uint64_t polls;
    qemu_irq irq;
};

struct PCILaneClass {
    /*< private >*/
    PCIDeviceClass parent_class;
    /*< public >*/

    void (*lane_init)(PCILaneState *s);
    void (*lane_fini)(PCILaneState *s);
};

/* the loopback back end */
static void pci_lane_loop_detach(PCILaneState *s)
{
    g_free(s->ring);
}

static const PCILaneBackendOps pci_lane_loop_ops = {
    .backend_detach = pci_lane_loop_detach,
};

static void pci_lane_poll(void *opaque)
{
    PCILaneState *s = opaque;

    s->polls++;
}

static void pci_lane_realize(PCIDevice *pdev, Error **errp)
{
    PCILaneState *s = PCI_LANE(pdev);
    PCILaneClass *lc = PCI_LANE_GET_CLASS(pdev);

    s->poll = timer_new_ns(QEMU_CLOCK_VIRTUAL, pci_lane_poll, s); /* lifecheck: expect[leak-on-unrealize] */
    s->ring = g_malloc0(PCI_LANE_RING_SIZE);
    s->ops = &pci_lane_loop_ops;
    if (lc->lane_init) {
        lc->lane_init(s);
    }
}

static void pci_lane_exit(PCIDevice *pdev)
{
    PCILaneState *s = PCI_LANE(pdev);
    PCILaneClass *lc = PCI_LANE_GET_CLASS(pdev);

    if (lc->lane_fini) {
        lc->lane_fini(s);
    }
    s->ops->backend_detach(s);
}

static void pci_lane_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_lane_realize;
    k->exit = pci_lane_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10fa;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
}

/* the tx lane */
static void pci_lane_tx_tick(void *opaque)
{
    PCILaneState *s = opaque;

    qemu_irq_pulse(s->irq);
}

static void pci_lane_tx_init(PCILaneState *s)
{
    s->tx_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, pci_lane_tx_tick, s);
    s->irq = pci_allocate_irq(&s->parent_obj); /* lifecheck: expect[leak-on-unrealize] */
}

static void pci_lane_tx_fini(PCILaneState *s)
{
    timer_free(s->tx_timer);
}

static void pci_lane_tx_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCILaneClass *lc = PCI_LANE_CLASS(klass);

    dc->hotpluggable = true;
    lc->lane_init = pci_lane_tx_init;
    lc->lane_fini = pci_lane_tx_fini;
}

static const TypeInfo pci_lane_info = {
    .name          = TYPE_PCI_LANE,
    .parent        = TYPE_PCI_DEVICE,
    .abstract      = true,
    .instance_size = sizeof(PCILaneState),
    .class_size    = sizeof(PCILaneClass),
    .class_init    = pci_lane_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static const TypeInfo pci_lane_tx_info = {
    .name          = TYPE_PCI_LANE_TX,
    .parent        = TYPE_PCI_LANE,
    .class_init    = pci_lane_tx_class_init,
};

static void pci_lane_register_types(void)
{
    type_register_static(&pci_lane_info);
    type_register_static(&pci_lane_tx_info);
}

type_init(pci_lane_register_types)
