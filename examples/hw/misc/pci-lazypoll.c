/*
 * Lazily started poller (lifecheck example)
 *
 * Shows: leak-on-unrealize of what the device acquires outside its
 * lifecycle hooks, in code that runs while it is realized: the write
 * handler of its MMIO BAR (a callback it registered with
 * memory_region_init_io()) creates the poll timer on the first doorbell,
 * and the setter of its QOM property "stats" (object_property_add_bool()
 * in instance_init) creates a stats timer.  QEMU had both: virtio-gpu-gl
 * set up its virgl renderer, with a fence-poll timer, on the first
 * virtqueue request and had no unrealize to free it; virtio-balloon's
 * guest-stats-polling-interval setter creates the stats timer its
 * unrealize must free.
 *
 * Bug: exit frees neither timer, so after unplug the next tick runs on
 * the freed device (severity: error, the device is hot-pluggable).  Fix:
 * timer_free() both in exit (see pci-lazypoll-fixed.c).
 *
 * Correct: the staging buffer the write handler allocates and frees
 * again before it returns.  The setter's own timer_free() when "stats" is
 * turned off frees what an earlier call made, not the timer a later call
 * makes: only teardown releases that one.
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_LAZYPOLL "pci-lazypoll"
OBJECT_DECLARE_SIMPLE_TYPE(PCILazyPollState, PCI_LAZYPOLL)

#define LAZYPOLL_PERIOD_NS (10 * 1000 * 1000)

struct PCILazyPollState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    MemoryRegion mmio;
    QEMUTimer *poll;
    QEMUTimer *stats;
    bool stats_on;
    uint32_t doorbell;
    uint32_t polls;
};

static void lazypoll_tick(void *opaque)
{
    PCILazyPollState *s = opaque;

    s->polls++;
    timer_mod(s->poll, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + LAZYPOLL_PERIOD_NS);
}

static void lazypoll_stats_tick(void *opaque)
{
    PCILazyPollState *s = opaque;

    s->polls = 0;
}

static void lazypoll_start(PCILazyPollState *s)
{
    s->poll = timer_new_ns(QEMU_CLOCK_VIRTUAL, lazypoll_tick, s); /* lifecheck: expect[leak-on-unrealize] */
    timer_mod(s->poll, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + LAZYPOLL_PERIOD_NS);
}

static uint64_t lazypoll_read(void *opaque, hwaddr addr, unsigned size)
{
    PCILazyPollState *s = opaque;

    return s->polls;
}

static void lazypoll_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PCILazyPollState *s = opaque;
    uint8_t *staging;

    staging = g_malloc0(size); /* lifecheck: ok[leak-on-unrealize] */
    memcpy(staging, &val, size);
    s->doorbell = staging[0];
    g_free(staging);
    if (!s->poll) {
        lazypoll_start(s);
    }
}

static const MemoryRegionOps lazypoll_ops = {
    .read = lazypoll_read,
    .write = lazypoll_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

static bool lazypoll_get_stats(Object *obj, Error **errp)
{
    PCILazyPollState *s = PCI_LAZYPOLL(obj);

    return s->stats_on;
}

static void lazypoll_set_stats(Object *obj, bool value, Error **errp)
{
    PCILazyPollState *s = PCI_LAZYPOLL(obj);

    if (!value) {
        if (s->stats) {
            timer_free(s->stats);
            s->stats = NULL;
        }
        s->stats_on = false;
        return;
    }
    if (!s->stats) {
        s->stats = timer_new_ns(QEMU_CLOCK_VIRTUAL, lazypoll_stats_tick, s); /* lifecheck: expect[leak-on-unrealize] */
    }
    s->stats_on = true;
}

static void pci_lazypoll_init(Object *obj)
{
    object_property_add_bool(obj, "stats", lazypoll_get_stats, lazypoll_set_stats);
}

static void pci_lazypoll_realize(PCIDevice *pdev, Error **errp)
{
    PCILazyPollState *s = PCI_LAZYPOLL(pdev);

    memory_region_init_io(&s->mmio, OBJECT(s), &lazypoll_ops, s, "pci-lazypoll.mmio", 4 * KiB);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);
}

static void pci_lazypoll_exit(PCIDevice *pdev)
{
    PCILazyPollState *s = PCI_LAZYPOLL(pdev);

    s->doorbell = 0;
}

static void pci_lazypoll_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_lazypoll_realize;
    k->exit = pci_lazypoll_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x1140;
    k->revision = 0x01;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "PCI lazily started poller";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo pci_lazypoll_info = {
    .name          = TYPE_PCI_LAZYPOLL,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCILazyPollState),
    .instance_init = pci_lazypoll_init,
    .class_init    = pci_lazypoll_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_lazypoll_register_types(void)
{
    type_register_static(&pci_lazypoll_info);
}

type_init(pci_lazypoll_register_types)
