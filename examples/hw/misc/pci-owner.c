/*
 * PCI device with status and window registers (lifecheck example)
 *
 * Shows: region-owner-not-device (severity: error).
 *
 * The device exposes its status registers through BAR 0, a window that
 * firmware reads through BAR 1, and a doorbell inside its embedded
 * interrupt controller child.
 *
 * Bug: the status region lives in the device's state but is initialised
 * with a NULL owner, so the machine (/machine/unattached) owns it; the
 * window is given the machine as owner explicitly.  The memory API keeps
 * the owner, not the device, alive while a region is in use, and the
 * owner keeps the region as its QOM child: after unplug frees the
 * device, 'info qom-tree' and the FlatViews RCU reclaims later still
 * point into the freed state (docs/devel/memory.rst, "Region
 * lifecycle").  The doorbell owned by the embedded child and the
 * container owned by the device are fine: both owners die with the
 * device's memory.
 *
 * Fix: pass the device as owner, OBJECT(s) (pci-owner-fixed.c).
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

#define TYPE_OWNER_INTC "pci-owner-intc"
OBJECT_DECLARE_SIMPLE_TYPE(OwnerIntc, OWNER_INTC)

#define TYPE_PCI_OWNER "pci-owner"
OBJECT_DECLARE_SIMPLE_TYPE(PCIOwnerState, PCI_OWNER)

struct OwnerIntc {
    DeviceState parent_obj;

    uint32_t pending;
};

struct PCIOwnerState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    OwnerIntc intc;
    MemoryRegion bar;
    MemoryRegion status;
    MemoryRegion window;
    MemoryRegion doorbell;
    uint32_t regs[16];
};

static uint64_t owner_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIOwnerState *s = opaque;

    return s->regs[(addr >> 2) & 15];
}

static void owner_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PCIOwnerState *s = opaque;

    s->regs[(addr >> 2) & 15] = val;
    s->intc.pending |= 1;
}

static const MemoryRegionOps owner_ops = {
    .read = owner_read,
    .write = owner_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

static void pci_owner_init(Object *obj)
{
    PCIOwnerState *s = PCI_OWNER(obj);

    object_initialize_child(obj, "intc", &s->intc, TYPE_OWNER_INTC);
}

static void pci_owner_realize(PCIDevice *pdev, Error **errp)
{
    PCIOwnerState *s = PCI_OWNER(pdev);

    memory_region_init(&s->bar, OBJECT(s), "pci-owner.bar", 64 * KiB); /* lifecheck: ok[region-owner-not-device] */
    memory_region_init_io(&s->status, NULL, &owner_ops, s, "pci-owner.status", 4 * KiB); /* lifecheck: expect[region-owner-not-device] */
    memory_region_add_subregion(&s->bar, 0, &s->status);
    memory_region_init_io(&s->doorbell, OBJECT(&s->intc), &owner_ops, s, "pci-owner.doorbell", 4); /* lifecheck: ok[region-owner-not-device] */
    memory_region_add_subregion(&s->bar, 32 * KiB, &s->doorbell);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->bar);

    memory_region_init_ram(&s->window, qdev_get_machine(), "pci-owner.window", 64 * KiB, errp); /* lifecheck: expect[region-owner-not-device] */
    pci_register_bar(pdev, 1, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->window);
}

static void owner_intc_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->desc = "PCI owner interrupt controller";
    dc->user_creatable = false;
}

static void pci_owner_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_owner_realize;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x1132;
    k->revision = 0x01;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "PCI device with status and window registers";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo pci_owner_types[] = {
    {
        .name          = TYPE_OWNER_INTC,
        .parent        = TYPE_DEVICE,
        .instance_size = sizeof(OwnerIntc),
        .class_init    = owner_intc_class_init,
    },
    {
        .name          = TYPE_PCI_OWNER,
        .parent        = TYPE_PCI_DEVICE,
        .instance_size = sizeof(PCIOwnerState),
        .instance_init = pci_owner_init,
        .class_init    = pci_owner_class_init,
        .interfaces = (const InterfaceInfo[]) {
            { INTERFACE_CONVENTIONAL_PCI_DEVICE },
            { },
        },
    },
};

DEFINE_TYPES(pci_owner_types)
