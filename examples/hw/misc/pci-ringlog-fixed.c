/*
 * PCI ring log, fixed (lifecheck example)
 *
 * Shows: the fixed hw/misc/pci-ringlog.c; no findings.
 *
 * The helpers return what they acquire (the ring with its slots and flush
 * timer, the history buffer) and realize stores it in the device; exit
 * frees the ring through pci_ringlog_fixed_ring_free(), which frees what
 * pci_ringlog_fixed_ring_new() put inside it, and instance_finalize frees the
 * history.  pci_ringlog_fixed_start() frees the poll timer on its own error
 * exit before it fails, as a failing function must
 * (include/qapi/error.h), so realize's early return leaks nothing.
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_RINGLOG_FIXED "pci-ringlog-fixed"
OBJECT_DECLARE_SIMPLE_TYPE(PCIRinglogFixedState, PCI_RINGLOG_FIXED)

typedef struct RinglogFixedRing {
    QEMUTimer *flush;
    uint32_t *slots;
    uint32_t size;
} RinglogFixedRing;

struct PCIRinglogFixedState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    RinglogFixedRing *ring;
    QEMUTimer *poll;
    uint32_t *history;

    uint32_t ring_size;
    uint32_t period_ms;
};

static void pci_ringlog_fixed_tick(void *opaque)
{
}

static void pci_ringlog_fixed_flush(void *opaque)
{
}

static RinglogFixedRing *pci_ringlog_fixed_ring_new(PCIRinglogFixedState *s)
{
    RinglogFixedRing *ring = g_new0(RinglogFixedRing, 1);

    ring->size = s->ring_size;
    ring->slots = g_new0(uint32_t, ring->size);
    ring->flush = timer_new_ms(QEMU_CLOCK_VIRTUAL, pci_ringlog_fixed_flush, s);
    return ring;
}

static void pci_ringlog_fixed_ring_free(RinglogFixedRing *ring)
{
    timer_free(ring->flush);
    g_free(ring->slots);
    g_free(ring);
}

static uint32_t *pci_ringlog_fixed_history_new(uint32_t n)
{
    return g_new0(uint32_t, n);
}

static bool pci_ringlog_fixed_start(PCIRinglogFixedState *s, Error **errp)
{
    s->poll = timer_new_ms(QEMU_CLOCK_VIRTUAL, pci_ringlog_fixed_tick, s); /* lifecheck: ok[realize-error-leak] */
    if (s->period_ms == 0) {
        error_setg(errp, "pci-ringlog-fixed: period must not be zero");
        timer_free(s->poll);
        s->poll = NULL;
        return false;
    }
    return true;
}

static void pci_ringlog_fixed_realize(PCIDevice *pdev, Error **errp)
{
    PCIRinglogFixedState *s = PCI_RINGLOG_FIXED(pdev);

    if (!pci_ringlog_fixed_start(s, errp)) {
        return;
    }
    s->ring = pci_ringlog_fixed_ring_new(s);              /* lifecheck: ok[leak-on-unrealize] */
    s->history = pci_ringlog_fixed_history_new(s->ring_size); /* lifecheck: ok[leak-on-unrealize] */
}

static void pci_ringlog_fixed_exit(PCIDevice *pdev)
{
    PCIRinglogFixedState *s = PCI_RINGLOG_FIXED(pdev);

    timer_free(s->poll);
    pci_ringlog_fixed_ring_free(s->ring);
}

static void pci_ringlog_fixed_finalize(Object *obj)
{
    PCIRinglogFixedState *s = PCI_RINGLOG_FIXED(obj);

    g_free(s->history);
}

static const Property pci_ringlog_fixed_properties[] = {
    DEFINE_PROP_UINT32("ring-size", PCIRinglogFixedState, ring_size, 64),
    DEFINE_PROP_UINT32("period-ms", PCIRinglogFixedState, period_ms, 10),
};

static void pci_ringlog_fixed_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_ringlog_fixed_realize;
    k->exit = pci_ringlog_fixed_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10f9;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
    device_class_set_props(dc, pci_ringlog_fixed_properties);
}

static const TypeInfo pci_ringlog_fixed_info = {
    .name          = TYPE_PCI_RINGLOG_FIXED,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIRinglogFixedState),
    .instance_finalize = pci_ringlog_fixed_finalize,
    .class_init    = pci_ringlog_fixed_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_ringlog_fixed_register_types(void)
{
    type_register_static(&pci_ringlog_fixed_info);
}

type_init(pci_ringlog_fixed_register_types)
