/*
 * PCI job queue device, fixed (lifecheck example)
 *
 * Shows: no findings.  The same device as pci-jobqueue.c with its
 * teardown done right: exit joins the worker thread before it frees the
 * jobs the thread takes, and s->slots is freed in instance_finalize after
 * the conditions inside it are destroyed.  The label nothing reaches is
 * still freed in exit.
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qemu/thread.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_JOBQUEUE "pci-jobqueue-fixed"
OBJECT_DECLARE_SIMPLE_TYPE(PCIJobQueueState, PCI_JOBQUEUE)

#define JOBQUEUE_SLOTS 16

typedef struct JobSlot {
    QemuCond done;
    uint32_t count;
} JobSlot;

struct PCIJobQueueState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    MemoryRegion mmio;
    QemuThread worker;
    QemuMutex lock;
    uint32_t *jobs;
    JobSlot *slots;
    char *label;
    uint32_t head;
    bool stopping;
};

static void *jobqueue_worker(void *opaque)
{
    PCIJobQueueState *s = opaque;

    qemu_mutex_lock(&s->lock);
    while (!s->stopping) {
        s->jobs[s->head % JOBQUEUE_SLOTS] = 0;
        s->head++;
    }
    qemu_mutex_unlock(&s->lock);
    return NULL;
}

static uint64_t jobqueue_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIJobQueueState *s = opaque;

    return s->head;
}

static void jobqueue_mmio_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
}

static const MemoryRegionOps jobqueue_mmio_ops = {
    .read = jobqueue_mmio_read,
    .write = jobqueue_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

static void pci_jobqueue_realize(PCIDevice *pdev, Error **errp)
{
    PCIJobQueueState *s = PCI_JOBQUEUE(pdev);
    int i;

    s->label = g_strdup("jobqueue");
    s->jobs = g_new0(uint32_t, JOBQUEUE_SLOTS);
    s->slots = g_new0(JobSlot, JOBQUEUE_SLOTS);
    for (i = 0; i < JOBQUEUE_SLOTS; i++) {
        qemu_cond_init(&s->slots[i].done);
    }
    qemu_mutex_init(&s->lock);
    memory_region_init_io(&s->mmio, OBJECT(s), &jobqueue_mmio_ops, s, "pci-jobqueue.mmio", 4 * KiB);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);
    qemu_thread_create(&s->worker, "pci-jobqueue", jobqueue_worker, s, QEMU_THREAD_JOINABLE);
}

static void pci_jobqueue_exit(PCIDevice *pdev)
{
    PCIJobQueueState *s = PCI_JOBQUEUE(pdev);

    g_free(s->label); /* lifecheck: ok[freed-in-unrealize] */
    s->stopping = true;
    qemu_thread_join(&s->worker);
    g_free(s->jobs); /* lifecheck: ok[freed-in-unrealize] */
}

static void pci_jobqueue_finalize(Object *obj)
{
    PCIJobQueueState *s = PCI_JOBQUEUE(obj);
    int i;

    for (i = 0; i < JOBQUEUE_SLOTS; i++) {
        qemu_cond_destroy(&s->slots[i].done);
    }
    g_free(s->slots);
    qemu_mutex_destroy(&s->lock);
}

static void pci_jobqueue_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_jobqueue_realize;
    k->exit = pci_jobqueue_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x1122;
    k->revision = 0x01;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "PCI job queue (fixed)";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo pci_jobqueue_info = {
    .name          = TYPE_PCI_JOBQUEUE,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIJobQueueState),
    .instance_finalize = pci_jobqueue_finalize,
    .class_init    = pci_jobqueue_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_jobqueue_register_types(void)
{
    type_register_static(&pci_jobqueue_info);
}

type_init(pci_jobqueue_register_types)
