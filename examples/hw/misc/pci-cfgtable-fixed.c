/*
 * PCI config table, fixed (lifecheck example)
 *
 * Shows: the fix of pci-cfgtable.c's realize-error-leak.
 *
 * The device exposes a table of vendor records to the guest through a BAR
 * and a timer that refreshes its status word.  The table is built by
 * pci_cfgtable_fixed_load(), which fails (error_setg) when the table property is
 * too large.
 *
 * Fixed variant of pci-cfgtable.c: pci_cfgtable_fixed_load() returns whether it
 * succeeded and realize undoes what it did when it did not.  No finding.
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

#define TYPE_PCI_CFGTABLE_FIXED "pci-cfgtable-fixed"
OBJECT_DECLARE_SIMPLE_TYPE(PCICfgTableFixedState, PCI_CFGTABLE_FIXED)

#define CFGTABLE_MAX_ENTRIES 64
#define CFGTABLE_PERIOD_NS   (1000 * 1000)

struct PCICfgTableFixedState {
    PCIDevice parent_obj;

    MemoryRegion mmio;
    QEMUTimer *refresh;
    uint32_t *status;
    uint32_t *table;
    uint32_t entries;
};

static void cfgtable_refresh(void *opaque)
{
    PCICfgTableFixedState *s = opaque;

    s->status[0]++;
}

static uint64_t cfgtable_read(void *opaque, hwaddr addr, unsigned size)
{
    PCICfgTableFixedState *s = opaque;

    return s->status[0];
}

static void cfgtable_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
}

static const MemoryRegionOps cfgtable_ops = {
    .read = cfgtable_read,
    .write = cfgtable_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

static bool pci_cfgtable_fixed_load(PCICfgTableFixedState *s, Error **errp)
{
    if (s->entries > CFGTABLE_MAX_ENTRIES) {
        error_setg(errp, "pci-cfgtable: %u entries, at most %u", s->entries,
                   CFGTABLE_MAX_ENTRIES);
        return false;
    }
    s->table = g_new0(uint32_t, CFGTABLE_MAX_ENTRIES);
    return true;
}

static void pci_cfgtable_fixed_realize(PCIDevice *pdev, Error **errp)
{
    PCICfgTableFixedState *s = PCI_CFGTABLE_FIXED(pdev);

    s->status = g_new0(uint32_t, 4);
    memory_region_init_io(&s->mmio, OBJECT(s), &cfgtable_ops, s, "pci-cfgtable-fixed", 4 * KiB);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);
    s->refresh = timer_new_ns(QEMU_CLOCK_VIRTUAL, cfgtable_refresh, s);
    if (!pci_cfgtable_fixed_load(s, errp)) {
        timer_free(s->refresh);
        g_free(s->status);
        return;
    }
}

static void pci_cfgtable_fixed_exit(PCIDevice *pdev)
{
    PCICfgTableFixedState *s = PCI_CFGTABLE_FIXED(pdev);

    timer_free(s->refresh);
    g_free(s->table);
}

/* cfgtable_read() may still be running for an access already in flight */
static void pci_cfgtable_fixed_finalize(Object *obj)
{
    PCICfgTableFixedState *s = PCI_CFGTABLE_FIXED(obj);

    g_free(s->status);
}

static void pci_cfgtable_fixed_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_cfgtable_fixed_realize;
    k->exit = pci_cfgtable_fixed_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x1131;
    k->revision = 0x01;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "PCI config table";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo pci_cfgtable_fixed_info = {
    .name          = TYPE_PCI_CFGTABLE_FIXED,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCICfgTableFixedState),
    .instance_finalize = pci_cfgtable_fixed_finalize,
    .class_init    = pci_cfgtable_fixed_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_cfgtable_fixed_register_types(void)
{
    type_register_static(&pci_cfgtable_fixed_info);
}

type_init(pci_cfgtable_fixed_register_types)
