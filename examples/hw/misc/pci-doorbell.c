/*
 * PCI doorbell device (lifecheck example)
 *
 * Shows: a PCI device with no findings.
 *
 * The doorbell pages live in an array of DoorbellBank allocated in realize,
 * each bank embedding its MemoryRegion.  The banks are mapped into the
 * device's own BAR container: no removal needed, they go away with the
 * device.  A legacy doorbell port is mapped into the bus's I/O space two
 * helper calls below realize, and removed again by a helper of exit.  The
 * bank array is freed in instance_finalize, not in exit: in-flight
 * accesses may still reach a bank's region until the last reference to
 * the device is gone (docs/devel/memory.rst: regions in dynamically
 * allocated structures are freed in instance_finalize).
 *
 * Copyright (c) 2025 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_DOORBELL "pci-doorbell"
OBJECT_DECLARE_SIMPLE_TYPE(PCIDoorbellState, PCI_DOORBELL)

#define DOORBELL_MAX_BANKS      16
#define DOORBELL_PAGE_SIZE      (4 * KiB)
#define DOORBELL_LEGACY_PORT    0x510
#define DOORBELL_LEGACY_SIZE    4

typedef struct DoorbellBank {
    PCIDoorbellState *dev;
    MemoryRegion mr;
    unsigned index;
    uint32_t pending;
} DoorbellBank;

struct PCIDoorbellState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    MemoryRegion bar;           /* BAR 0: container for the bank pages */
    MemoryRegion legacy_io;     /* doorbell port in the bus's I/O space */
    DoorbellBank *banks;
    uint32_t num_banks;
    uint32_t rung;
};

static uint64_t doorbell_bank_read(void *opaque, hwaddr addr, unsigned size)
{
    DoorbellBank *bank = opaque;

    return bank->pending;
}

static void doorbell_bank_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    DoorbellBank *bank = opaque;

    bank->pending |= val;
    bank->dev->rung |= 1u << bank->index;
    pci_set_irq(PCI_DEVICE(bank->dev), 1);
}

static const MemoryRegionOps doorbell_bank_ops = {
    .read = doorbell_bank_read,
    .write = doorbell_bank_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};

static uint64_t doorbell_legacy_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIDoorbellState *s = opaque;

    return s->rung;
}

static void doorbell_legacy_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PCIDoorbellState *s = opaque;

    s->rung &= ~val;
    if (!s->rung) {
        pci_set_irq(PCI_DEVICE(s), 0);
    }
}

static const MemoryRegionOps doorbell_legacy_ops = {
    .read = doorbell_legacy_read,
    .write = doorbell_legacy_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

static void doorbell_init_banks(PCIDoorbellState *s)
{
    unsigned i;

    for (i = 0; i < s->num_banks; i++) {
        DoorbellBank *bank = &s->banks[i];
        g_autofree char *name = g_strdup_printf("pci-doorbell.bank[%u]", i);

        bank->dev = s;
        bank->index = i;
        memory_region_init_io(&bank->mr, OBJECT(s), &doorbell_bank_ops, bank, name, DOORBELL_PAGE_SIZE);
        memory_region_add_subregion(&s->bar, i * DOORBELL_PAGE_SIZE, &bank->mr); /* lifecheck: ok[subregion-not-deleted] */
    }
}

static void doorbell_map_region(MemoryRegion *space, hwaddr offset, MemoryRegion *mr)
{
    memory_region_add_subregion(space, offset, mr); /* lifecheck: ok[subregion-not-deleted] */
}

static void doorbell_map_legacy(PCIDoorbellState *s, MemoryRegion *space)
{
    memory_region_init_io(&s->legacy_io, OBJECT(s), &doorbell_legacy_ops, s, "pci-doorbell.legacy", DOORBELL_LEGACY_SIZE);
    doorbell_map_region(space, DOORBELL_LEGACY_PORT, &s->legacy_io);
}

static void doorbell_unmap_legacy(PCIDoorbellState *s, MemoryRegion *space)
{
    memory_region_del_subregion(space, &s->legacy_io);
}

static void pci_doorbell_realize(PCIDevice *pdev, Error **errp)
{
    PCIDoorbellState *s = PCI_DOORBELL(pdev);

    if (s->num_banks == 0 || s->num_banks > DOORBELL_MAX_BANKS) {
        error_setg(errp, "banks must be between 1 and %d", DOORBELL_MAX_BANKS);
        return;
    }

    pci_config_set_interrupt_pin(pdev->config, 1);
    memory_region_init(&s->bar, OBJECT(s), "pci-doorbell.bar", DOORBELL_MAX_BANKS * DOORBELL_PAGE_SIZE);
    s->banks = g_new0(DoorbellBank, s->num_banks);
    doorbell_init_banks(s);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->bar); /* lifecheck: ok[subregion-not-deleted] */
    doorbell_map_legacy(s, pci_address_space_io(pdev));
}

static void pci_doorbell_exit(PCIDevice *pdev)
{
    PCIDoorbellState *s = container_of(pdev, PCIDoorbellState, parent_obj);

    doorbell_unmap_legacy(s, pci_address_space_io(pdev));
}

static void pci_doorbell_finalize(Object *obj)
{
    PCIDoorbellState *s = PCI_DOORBELL(obj);

    g_free(s->banks); /* lifecheck: ok[freed-in-unrealize] */
}

static const Property pci_doorbell_properties[] = {
    DEFINE_PROP_UINT32("banks", PCIDoorbellState, num_banks, 4),
};

static void pci_doorbell_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_doorbell_realize;
    k->exit = pci_doorbell_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x1112;
    k->revision = 0x01;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
    dc->desc = "PCI doorbell pages";
    dc->hotpluggable = true;
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    device_class_set_props(dc, pci_doorbell_properties);
}

static const TypeInfo pci_doorbell_types[] = {
    {
        .name              = TYPE_PCI_DOORBELL,
        .parent            = TYPE_PCI_DEVICE,
        .instance_size     = sizeof(PCIDoorbellState),
        .instance_finalize = pci_doorbell_finalize,
        .class_init        = pci_doorbell_class_init,
        .interfaces = (const InterfaceInfo[]) {
            { INTERFACE_PCIE_DEVICE },
            { INTERFACE_CONVENTIONAL_PCI_DEVICE },
            { },
        },
    },
};

DEFINE_TYPES(pci_doorbell_types)
