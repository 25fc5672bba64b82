/*
 * PCI queue pair (lifecheck example)
 *
 * Shows: use-after-release inside a callee, on a hot-pluggable PCI
 * device: exit frees an array, then calls a teardown helper that walks it
 * (severity: error).
 *
 * The card keeps a queue pair, an embedded QueuePair whose entries array
 * realize allocates.  queue_pair_cleanup() quiesces the pair: it walks
 * the entries and clears their doorbells before it drops the count.
 *
 * Bug: exit frees qp.entries first and calls queue_pair_cleanup(&s->qp)
 * afterwards, which writes to the freed entries (as vhost-vdpa-device's
 * unrealize did, freeing s->dev.vqs before vhost_dev_cleanup(&s->dev)
 * walked them; QEMU 10.0.13 moved the free after the cleanup).  The use
 * is in the callee, not in exit: the finding names the call, the free
 * and the access (use-after-release).
 *
 * Fix (pci-queuepair-fixed.c): queue_pair_cleanup() first, then
 * g_free(s->qp.entries).
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_QUEUEPAIR "pci-queuepair"
OBJECT_DECLARE_SIMPLE_TYPE(PCIQueuePairState, PCI_QUEUEPAIR)

#define QUEUEPAIR_ENTRIES 16

typedef struct QueueEntry {
    uint64_t addr;
    uint32_t doorbell;
} QueueEntry;

typedef struct QueuePair {
    uint32_t n;
    QueueEntry *entries;
} QueuePair;

struct PCIQueuePairState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    QueuePair qp;
};

static void queue_pair_cleanup(QueuePair *qp)
{
    uint32_t i;

    for (i = 0; i < qp->n; i++) {
        qp->entries[i].doorbell = 0;
    }
    qp->n = 0;
}

static void pci_queuepair_realize(PCIDevice *pdev, Error **errp)
{
    PCIQueuePairState *s = PCI_QUEUEPAIR(pdev);

    s->qp.n = QUEUEPAIR_ENTRIES;
    s->qp.entries = g_new0(QueueEntry, QUEUEPAIR_ENTRIES);
    pci_config_set_interrupt_pin(pdev->config, 1);
}

static void pci_queuepair_exit(PCIDevice *pdev)
{
    PCIQueuePairState *s = PCI_QUEUEPAIR(pdev);

    g_free(s->qp.entries);
    queue_pair_cleanup(&s->qp); /* lifecheck: expect[use-after-release] */
}

static void pci_queuepair_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_queuepair_realize;
    k->exit = pci_queuepair_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10fd;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
    dc->desc = "PCI queue pair";
}

static const TypeInfo pci_queuepair_info = {
    .name          = TYPE_PCI_QUEUEPAIR,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIQueuePairState),
    .class_init    = pci_queuepair_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_queuepair_register_types(void)
{
    type_register_static(&pci_queuepair_info);
}

type_init(pci_queuepair_register_types)
