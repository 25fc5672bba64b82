/*
 * PCI ring log (lifecheck example)
 *
 * Shows: acquisitions a helper returns, and a helper whose own error exit
 * leaks, on a hot-pluggable PCI device (severity: error).
 *
 * Realize starts the poll timer in pci_ringlog_start(), then builds the
 * sample ring with pci_ringlog_ring_new(), which allocates the ring,
 * its slots and its flush timer and returns the ring, and the history
 * buffer with pci_ringlog_history_new().  What the helpers return is the
 * device's from the call on: lifecheck summarises every helper bottom-up
 * over the call graph and sees s->ring, s->ring->slots, s->ring->flush and
 * s->history acquired at the calls in realize.
 *
 * Bugs:
 *  - pci_ringlog_ring_free() frees the slots and the ring but not the
 *    flush timer (leak-on-unrealize on s->ring->flush, reported at the
 *    call that returned it);
 *  - the history buffer is never freed (leak-on-unrealize);
 *  - pci_ringlog_start() creates the poll timer and then fails without
 *    freeing it.  A function that fails must undo its own work
 *    (include/qapi/error.h); realize passes the failure on and the PCI
 *    core does not call exit after a failed realize
 *    (realize-error-leak, reported where the timer is created; the
 *    message names the helper's exit).
 *
 * Fixes: timer_free(ring->flush) in pci_ringlog_ring_free();
 * g_free(s->history) in exit or instance_finalize; timer_free(s->poll)
 * before the error return, or check first.  hw/misc/pci-ringlog-fixed.c is the
 * fixed device.
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

#define TYPE_PCI_RINGLOG "pci-ringlog"
OBJECT_DECLARE_SIMPLE_TYPE(PCIRinglogState, PCI_RINGLOG)

typedef struct RinglogRing {
    QEMUTimer *flush;
    uint32_t *slots;
    uint32_t size;
} RinglogRing;

struct PCIRinglogState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    RinglogRing *ring;
    QEMUTimer *poll;
    uint32_t *history;

    uint32_t ring_size;
    uint32_t period_ms;
};

static void pci_ringlog_tick(void *opaque)
{
}

static void pci_ringlog_flush(void *opaque)
{
}

static RinglogRing *pci_ringlog_ring_new(PCIRinglogState *s)
{
    RinglogRing *ring = g_new0(RinglogRing, 1);

    ring->size = s->ring_size;
    ring->slots = g_new0(uint32_t, ring->size);
    ring->flush = timer_new_ms(QEMU_CLOCK_VIRTUAL, pci_ringlog_flush, s);
    return ring;
}

static void pci_ringlog_ring_free(RinglogRing *ring)
{
    g_free(ring->slots);
    g_free(ring);
}

static uint32_t *pci_ringlog_history_new(uint32_t n)
{
    return g_new0(uint32_t, n);
}

static bool pci_ringlog_start(PCIRinglogState *s, Error **errp)
{
    s->poll = timer_new_ms(QEMU_CLOCK_VIRTUAL, pci_ringlog_tick, s); /* lifecheck: expect[realize-error-leak] */
    if (s->period_ms == 0) {
        error_setg(errp, "pci-ringlog: period must not be zero");
        return false;
    }
    return true;
}

static void pci_ringlog_realize(PCIDevice *pdev, Error **errp)
{
    PCIRinglogState *s = PCI_RINGLOG(pdev);

    if (!pci_ringlog_start(s, errp)) {
        return;
    }
    s->ring = pci_ringlog_ring_new(s);              /* lifecheck: expect[leak-on-unrealize] */
    s->history = pci_ringlog_history_new(s->ring_size); /* lifecheck: expect[leak-on-unrealize] */
}

static void pci_ringlog_exit(PCIDevice *pdev)
{
    PCIRinglogState *s = PCI_RINGLOG(pdev);

    timer_free(s->poll);
    pci_ringlog_ring_free(s->ring);
}

static const Property pci_ringlog_properties[] = {
    DEFINE_PROP_UINT32("ring-size", PCIRinglogState, ring_size, 64),
    DEFINE_PROP_UINT32("period-ms", PCIRinglogState, period_ms, 10),
};

static void pci_ringlog_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_ringlog_realize;
    k->exit = pci_ringlog_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10f8;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
    device_class_set_props(dc, pci_ringlog_properties);
}

static const TypeInfo pci_ringlog_info = {
    .name          = TYPE_PCI_RINGLOG,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIRinglogState),
    .class_init    = pci_ringlog_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_ringlog_register_types(void)
{
    type_register_static(&pci_ringlog_info);
}

type_init(pci_ringlog_register_types)
