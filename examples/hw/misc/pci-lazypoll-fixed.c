/*
 * Lazily started poller, fixed (lifecheck example)
 *
 * The fixed version of pci-lazypoll.c: exit frees the timers the MMIO
 * write handler and the "stats" property setter made (timer_free() also
 * deletes a pending timer; both fields are NULL when that code never ran).
 * No findings.
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

#define TYPE_PCI_LAZYPOLL_FIXED "pci-lazypoll-fixed"
OBJECT_DECLARE_SIMPLE_TYPE(PCILazyPollFixedState, PCI_LAZYPOLL_FIXED)

#define LAZYPOLL_PERIOD_NS (10 * 1000 * 1000)

struct PCILazyPollFixedState {
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
    PCILazyPollFixedState *s = opaque;

    s->polls++;
    timer_mod(s->poll, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + LAZYPOLL_PERIOD_NS);
}

static void lazypoll_stats_tick(void *opaque)
{
    PCILazyPollFixedState *s = opaque;

    s->polls = 0;
}

static void lazypoll_start(PCILazyPollFixedState *s)
{
    s->poll = timer_new_ns(QEMU_CLOCK_VIRTUAL, lazypoll_tick, s); /* lifecheck: ok[leak-on-unrealize] */
    timer_mod(s->poll, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + LAZYPOLL_PERIOD_NS);
}

static uint64_t lazypoll_read(void *opaque, hwaddr addr, unsigned size)
{
    PCILazyPollFixedState *s = opaque;

    return s->polls;
}

static void lazypoll_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PCILazyPollFixedState *s = opaque;
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
    PCILazyPollFixedState *s = PCI_LAZYPOLL_FIXED(obj);

    return s->stats_on;
}

static void lazypoll_set_stats(Object *obj, bool value, Error **errp)
{
    PCILazyPollFixedState *s = PCI_LAZYPOLL_FIXED(obj);

    if (!value) {
        if (s->stats) {
            timer_free(s->stats);
            s->stats = NULL;
        }
        s->stats_on = false;
        return;
    }
    if (!s->stats) {
        s->stats = timer_new_ns(QEMU_CLOCK_VIRTUAL, lazypoll_stats_tick, s); /* lifecheck: ok[leak-on-unrealize] */
    }
    s->stats_on = true;
}

static void pci_lazypoll_fixed_init(Object *obj)
{
    object_property_add_bool(obj, "stats", lazypoll_get_stats, lazypoll_set_stats);
}

static void pci_lazypoll_fixed_realize(PCIDevice *pdev, Error **errp)
{
    PCILazyPollFixedState *s = PCI_LAZYPOLL_FIXED(pdev);

    memory_region_init_io(&s->mmio, OBJECT(s), &lazypoll_ops, s, "pci-lazypoll-fixed.mmio", 4 * KiB);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);
}

static void pci_lazypoll_fixed_exit(PCIDevice *pdev)
{
    PCILazyPollFixedState *s = PCI_LAZYPOLL_FIXED(pdev);

    s->doorbell = 0;
    timer_free(s->poll);
    timer_free(s->stats);
}

static void pci_lazypoll_fixed_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_lazypoll_fixed_realize;
    k->exit = pci_lazypoll_fixed_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x1141;
    k->revision = 0x01;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "PCI lazily started poller (fixed)";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo pci_lazypoll_fixed_info = {
    .name          = TYPE_PCI_LAZYPOLL_FIXED,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCILazyPollFixedState),
    .instance_init = pci_lazypoll_fixed_init,
    .class_init    = pci_lazypoll_fixed_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_lazypoll_fixed_register_types(void)
{
    type_register_static(&pci_lazypoll_fixed_info);
}

type_init(pci_lazypoll_fixed_register_types)
