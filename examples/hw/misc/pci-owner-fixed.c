/*
 * PCI device with status and window registers, fixed (lifecheck example)
 *
 * Shows: no findings.  The pci-owner.c example with every region that
 * lives in the device's state owned by the device (or by the child
 * embedded in it): the regions die with the device's memory, and the
 * memory API keeps the device alive while they are in use.
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-core.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_OWNER_FIXED_INTC "pci-owner-fixed-intc"
OBJECT_DECLARE_SIMPLE_TYPE(OwnerFixedIntc, OWNER_FIXED_INTC)

#define TYPE_PCI_OWNER_FIXED "pci-owner-fixed"
OBJECT_DECLARE_SIMPLE_TYPE(PCIOwnerFixedState, PCI_OWNER_FIXED)

struct OwnerFixedIntc {
    DeviceState parent_obj;

    uint32_t pending;
};

struct PCIOwnerFixedState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    OwnerFixedIntc intc;
    MemoryRegion bar;
    MemoryRegion status;
    MemoryRegion window;
    MemoryRegion doorbell;
    uint32_t regs[16];
};

static uint64_t owner_fixed_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIOwnerFixedState *s = opaque;

    return s->regs[(addr >> 2) & 15];
}

static void owner_fixed_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PCIOwnerFixedState *s = opaque;

    s->regs[(addr >> 2) & 15] = val;
    s->intc.pending |= 1;
}

static const MemoryRegionOps owner_fixed_ops = {
    .read = owner_fixed_read,
    .write = owner_fixed_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

static void pci_owner_fixed_init(Object *obj)
{
    PCIOwnerFixedState *s = PCI_OWNER_FIXED(obj);

    object_initialize_child(obj, "intc", &s->intc, TYPE_OWNER_FIXED_INTC);
}

static void pci_owner_fixed_realize(PCIDevice *pdev, Error **errp)
{
    PCIOwnerFixedState *s = PCI_OWNER_FIXED(pdev);

    memory_region_init(&s->bar, OBJECT(s), "pci-owner.bar", 64 * KiB); /* lifecheck: ok[region-owner-not-device] */
    memory_region_init_io(&s->status, OBJECT(s), &owner_fixed_ops, s, "pci-owner.status", 4 * KiB); /* lifecheck: ok[region-owner-not-device] */
    memory_region_add_subregion(&s->bar, 0, &s->status);
    memory_region_init_io(&s->doorbell, OBJECT(&s->intc), &owner_fixed_ops, s, "pci-owner.doorbell", 4); /* lifecheck: ok[region-owner-not-device] */
    memory_region_add_subregion(&s->bar, 32 * KiB, &s->doorbell);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->bar);

    memory_region_init_ram(&s->window, OBJECT(s), "pci-owner.window", 64 * KiB, errp); /* lifecheck: ok[region-owner-not-device] */
    pci_register_bar(pdev, 1, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->window);
}

static void owner_fixed_intc_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->desc = "PCI owner interrupt controller (fixed)";
    dc->user_creatable = false;
}

static void pci_owner_fixed_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_owner_fixed_realize;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x1133;
    k->revision = 0x01;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "PCI device with status and window registers (fixed)";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo pci_owner_fixed_types[] = {
    {
        .name          = TYPE_OWNER_FIXED_INTC,
        .parent        = TYPE_DEVICE,
        .instance_size = sizeof(OwnerFixedIntc),
        .class_init    = owner_fixed_intc_class_init,
    },
    {
        .name          = TYPE_PCI_OWNER_FIXED,
        .parent        = TYPE_PCI_DEVICE,
        .instance_size = sizeof(PCIOwnerFixedState),
        .instance_init = pci_owner_fixed_init,
        .class_init    = pci_owner_fixed_class_init,
        .interfaces = (const InterfaceInfo[]) {
            { INTERFACE_CONVENTIONAL_PCI_DEVICE },
            { },
        },
    },
};

DEFINE_TYPES(pci_owner_fixed_types)
