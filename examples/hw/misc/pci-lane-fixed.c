/*
 * PCI lane, fixed (lifecheck example)
 *
 * Shows: the fixed variant of pci-lane.c.  No findings: the poll timer is
 * freed by the base's exit, the INTx line by the tx lane's lane_fini
 * callback (PCILaneFixedClass.lane_fini, stored by the subtype's
 * class_init), and the ring by the loopback back end's detach (a static
 * ops table) -- lifecheck follows both function pointers, so it sees
 * every release.
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

#define PCI_LANE_FIXED_RING_SIZE 4096

#define TYPE_PCI_LANE_FIXED "pci-lane-fixed"
OBJECT_DECLARE_TYPE(PCILaneFixedState, PCILaneFixedClass, PCI_LANE_FIXED)

#define TYPE_PCI_LANE_FIXED_TX "pci-lane-fixed-tx"

typedef struct PCILaneFixedBackendOps {
    void (*backend_release)(PCILaneFixedState *s);
} PCILaneFixedBackendOps;

struct PCILaneFixedState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    const PCILaneFixedBackendOps *ops;
    QEMUTimer *poll;
    QEMUTimer *tx_timer;
    uint8_t *ring;
    uint64_t polls;
    qemu_irq irq;
};

struct PCILaneFixedClass {
    /*< private >*/
    PCIDeviceClass parent_class;
    /*< public >*/

    void (*lane_init)(PCILaneFixedState *s);
    void (*lane_fini)(PCILaneFixedState *s);
};

/* the loopback back end */
static void pci_lane_fixed_loop_detach(PCILaneFixedState *s)
{
    g_free(s->ring);
}

static const PCILaneFixedBackendOps pci_lane_fixed_loop_ops = {
    .backend_release = pci_lane_fixed_loop_detach,
};

static void pci_lane_fixed_poll(void *opaque)
{
    PCILaneFixedState *s = opaque;

    s->polls++;
}

static void pci_lane_fixed_realize(PCIDevice *pdev, Error **errp)
{
    PCILaneFixedState *s = PCI_LANE_FIXED(pdev);
    PCILaneFixedClass *lc = PCI_LANE_FIXED_GET_CLASS(pdev);

    s->poll = timer_new_ns(QEMU_CLOCK_VIRTUAL, pci_lane_fixed_poll, s);
    s->ring = g_malloc0(PCI_LANE_FIXED_RING_SIZE);
    s->ops = &pci_lane_fixed_loop_ops;
    if (lc->lane_init) {
        lc->lane_init(s);
    }
}

static void pci_lane_fixed_exit(PCIDevice *pdev)
{
    PCILaneFixedState *s = PCI_LANE_FIXED(pdev);
    PCILaneFixedClass *lc = PCI_LANE_FIXED_GET_CLASS(pdev);

    timer_free(s->poll);

    if (lc->lane_fini) {
        lc->lane_fini(s);
    }
    s->ops->backend_release(s);
}

static void pci_lane_fixed_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_lane_fixed_realize;
    k->exit = pci_lane_fixed_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10fb;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
}

/* the tx lane */
static void pci_lane_fixed_tx_tick(void *opaque)
{
    PCILaneFixedState *s = opaque;

    qemu_irq_pulse(s->irq);
}

static void pci_lane_fixed_tx_init(PCILaneFixedState *s)
{
    s->tx_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, pci_lane_fixed_tx_tick, s);
    s->irq = pci_allocate_irq(&s->parent_obj);
}

static void pci_lane_fixed_tx_fini(PCILaneFixedState *s)
{
    timer_free(s->tx_timer);
    qemu_free_irq(s->irq);
}

static void pci_lane_fixed_tx_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCILaneFixedClass *lc = PCI_LANE_FIXED_CLASS(klass);

    dc->hotpluggable = true;
    lc->lane_init = pci_lane_fixed_tx_init;
    lc->lane_fini = pci_lane_fixed_tx_fini;
}

static const TypeInfo pci_lane_fixed_info = {
    .name          = TYPE_PCI_LANE_FIXED,
    .parent        = TYPE_PCI_DEVICE,
    .abstract      = true,
    .instance_size = sizeof(PCILaneFixedState),
    .class_size    = sizeof(PCILaneFixedClass),
    .class_init    = pci_lane_fixed_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static const TypeInfo pci_lane_fixed_tx_info = {
    .name          = TYPE_PCI_LANE_FIXED_TX,
    .parent        = TYPE_PCI_LANE_FIXED,
    .class_init    = pci_lane_fixed_tx_class_init,
};

static void pci_lane_fixed_register_types(void)
{
    type_register_static(&pci_lane_fixed_info);
    type_register_static(&pci_lane_fixed_tx_info);
}

type_init(pci_lane_fixed_register_types)
