/*
 * PCI config table (lifecheck example)
 *
 * Shows: realize-error-leak where the failure is signalled only through
 * errp by the last call of realize.
 *
 * The device exposes a table of vendor records to the guest through a BAR
 * and a timer that refreshes its status word.  The table is built by
 * pci_cfgtable_load(), which fails (error_setg) when the table property is
 * too large.
 *
 * Bug: realize ends with pci_cfgtable_load(s, errp) and does not check it.
 * When the load fails, realize fails with the timer and the status buffer
 * still held; unrealize is not called after a failed realize, so both leak
 * and the timer keeps a pointer to the freed device (realize-error-leak,
 * reported where each is acquired).  The shape of the cxl-type3 and cxl
 * upstream port CDAT fixes (QEMU 7.2 -> 8.0).
 *
 * Fix: pci-cfgtable-fixed.c (check the result and undo on failure).
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

#define TYPE_PCI_CFGTABLE "pci-cfgtable"
OBJECT_DECLARE_SIMPLE_TYPE(PCICfgTableState, PCI_CFGTABLE)

#define CFGTABLE_MAX_ENTRIES 64
#define CFGTABLE_PERIOD_NS   (1000 * 1000)

struct PCICfgTableState {
    PCIDevice parent_obj;

    MemoryRegion mmio;
    QEMUTimer *refresh;
    uint32_t *status;
    uint32_t *table;
    uint32_t entries;
};

static void cfgtable_refresh(void *opaque)
{
    PCICfgTableState *s = opaque;

    s->status[0]++;
}

static uint64_t cfgtable_read(void *opaque, hwaddr addr, unsigned size)
{
    PCICfgTableState *s = opaque;

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

static void pci_cfgtable_load(PCICfgTableState *s, Error **errp)
{
    if (s->entries > CFGTABLE_MAX_ENTRIES) {
        error_setg(errp, "pci-cfgtable: %u entries, at most %u", s->entries,
                   CFGTABLE_MAX_ENTRIES);
        return;
    }
    s->table = g_new0(uint32_t, CFGTABLE_MAX_ENTRIES);
}

static void pci_cfgtable_realize(PCIDevice *pdev, Error **errp)
{
    PCICfgTableState *s = PCI_CFGTABLE(pdev);

    s->status = g_new0(uint32_t, 4); /* lifecheck: expect[realize-error-leak] */
    memory_region_init_io(&s->mmio, OBJECT(s), &cfgtable_ops, s, "pci-cfgtable", 4 * KiB);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);
    s->refresh = timer_new_ns(QEMU_CLOCK_VIRTUAL, cfgtable_refresh, s); /* lifecheck: expect[realize-error-leak] */
    pci_cfgtable_load(s, errp);
}

static void pci_cfgtable_exit(PCIDevice *pdev)
{
    PCICfgTableState *s = PCI_CFGTABLE(pdev);

    timer_free(s->refresh);
    g_free(s->status); /* lifecheck: expect[freed-in-unrealize] */
    g_free(s->table);
}

static void pci_cfgtable_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_cfgtable_realize;
    k->exit = pci_cfgtable_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x1130;
    k->revision = 0x01;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "PCI config table";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo pci_cfgtable_info = {
    .name          = TYPE_PCI_CFGTABLE,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCICfgTableState),
    .class_init    = pci_cfgtable_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_cfgtable_register_types(void)
{
    type_register_static(&pci_cfgtable_info);
}

type_init(pci_cfgtable_register_types)
