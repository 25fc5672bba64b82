/*
 * PCI recorder (lifecheck example)
 *
 * Shows: the fixed hw/misc/pci-sampler.c; no findings.
 *
 * The helpers return what they acquire (the ring with its slots and flush
 * timer, the history buffer) and realize stores it in the device; exit
 * frees the ring through pci_recorder_ring_free(), which frees what
 * pci_recorder_ring_new() put inside it, and instance_finalize frees the
 * history.  pci_recorder_start() frees the poll timer on its own error
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

#define TYPE_PCI_RECORDER "pci-recorder"
OBJECT_DECLARE_SIMPLE_TYPE(PCIRecorderState, PCI_RECORDER)

typedef struct RecorderRing {
    QEMUTimer *flush;
    uint32_t *slots;
    uint32_t size;
} RecorderRing;

struct PCIRecorderState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    RecorderRing *ring;
    QEMUTimer *poll;
    uint32_t *history;

    uint32_t ring_size;
    uint32_t period_ms;
};

static void pci_recorder_tick(void *opaque)
{
}

static void pci_recorder_flush(void *opaque)
{
}

static RecorderRing *pci_recorder_ring_new(PCIRecorderState *s)
{
    RecorderRing *ring = g_new0(RecorderRing, 1);

    ring->size = s->ring_size;
    ring->slots = g_new0(uint32_t, ring->size);
    ring->flush = timer_new_ms(QEMU_CLOCK_VIRTUAL, pci_recorder_flush, s);
    return ring;
}

static void pci_recorder_ring_free(RecorderRing *ring)
{
    timer_free(ring->flush);
    g_free(ring->slots);
    g_free(ring);
}

static uint32_t *pci_recorder_history_new(uint32_t n)
{
    return g_new0(uint32_t, n);
}

static bool pci_recorder_start(PCIRecorderState *s, Error **errp)
{
    s->poll = timer_new_ms(QEMU_CLOCK_VIRTUAL, pci_recorder_tick, s); /* lifecheck: ok[realize-error-leak] */
    if (s->period_ms == 0) {
        error_setg(errp, "pci-recorder: period must not be zero");
        timer_free(s->poll);
        s->poll = NULL;
        return false;
    }
    return true;
}

static void pci_recorder_realize(PCIDevice *pdev, Error **errp)
{
    PCIRecorderState *s = PCI_RECORDER(pdev);

    if (!pci_recorder_start(s, errp)) {
        return;
    }
    s->ring = pci_recorder_ring_new(s);              /* lifecheck: ok[leak-on-unrealize] */
    s->history = pci_recorder_history_new(s->ring_size); /* lifecheck: ok[leak-on-unrealize] */
}

static void pci_recorder_exit(PCIDevice *pdev)
{
    PCIRecorderState *s = PCI_RECORDER(pdev);

    timer_free(s->poll);
    pci_recorder_ring_free(s->ring);
}

static void pci_recorder_finalize(Object *obj)
{
    PCIRecorderState *s = PCI_RECORDER(obj);

    g_free(s->history);
}

static const Property pci_recorder_properties[] = {
    DEFINE_PROP_UINT32("ring-size", PCIRecorderState, ring_size, 64),
    DEFINE_PROP_UINT32("period-ms", PCIRecorderState, period_ms, 10),
};

static void pci_recorder_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_recorder_realize;
    k->exit = pci_recorder_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10f9;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
    device_class_set_props(dc, pci_recorder_properties);
}

static const TypeInfo pci_recorder_info = {
    .name          = TYPE_PCI_RECORDER,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIRecorderState),
    .instance_finalize = pci_recorder_finalize,
    .class_init    = pci_recorder_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_recorder_register_types(void)
{
    type_register_static(&pci_recorder_info);
}

type_init(pci_recorder_register_types)
