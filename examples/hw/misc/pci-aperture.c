/*
 * PCI aperture device (lifecheck example)
 *
 * Shows: heap-region-leak (severity: error); an embedded region and a
 * heap region the device frees itself are fine.
 *
 * The device exposes two apertures through BAR 0, each an I/O region
 * inside the BAR container.
 *
 * Bug: the low aperture's MemoryRegion is allocated with g_new() into a
 * local and initialised with the device as owner; only the BAR container
 * keeps a pointer to it.  QOM finalizes it together with the device, but
 * frees only objects object_new() made: the g_new() block leaks every
 * time the device is created and destroyed.
 *
 * Fix: embed the region in the device state (as the high aperture is), or
 * free the block in instance_finalize (as the scratch region's is).
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_APERTURE "pci-aperture"
OBJECT_DECLARE_SIMPLE_TYPE(PCIApertureState, PCI_APERTURE)

struct PCIApertureState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    MemoryRegion bar;
    MemoryRegion high;          /* embedded: fine */
    MemoryRegion *scratch;      /* allocated, freed in instance_finalize: fine */
    uint32_t regs[16];
};

static uint64_t aperture_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIApertureState *s = opaque;

    return s->regs[(addr >> 2) & 15];
}

static void aperture_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PCIApertureState *s = opaque;

    s->regs[(addr >> 2) & 15] = val;
}

static const MemoryRegionOps aperture_ops = {
    .read = aperture_read,
    .write = aperture_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

static void pci_aperture_realize(PCIDevice *pdev, Error **errp)
{
    PCIApertureState *s = PCI_APERTURE(pdev);
    MemoryRegion *low;

    memory_region_init(&s->bar, OBJECT(s), "pci-aperture.bar", 64 * KiB);
    low = g_new(MemoryRegion, 1); /* lifecheck: expect[heap-region-leak] */
    memory_region_init_io(low, OBJECT(s), &aperture_ops, s, "pci-aperture.low", 4 * KiB);
    memory_region_add_subregion(&s->bar, 0, low);
    memory_region_init_io(&s->high, OBJECT(s), &aperture_ops, s, "pci-aperture.high", 4 * KiB);
    memory_region_add_subregion(&s->bar, 32 * KiB, &s->high);
    s->scratch = g_new0(MemoryRegion, 1); /* lifecheck: ok[heap-region-leak] */
    memory_region_init_io(s->scratch, OBJECT(s), &aperture_ops, s, "pci-aperture.scratch", 4 * KiB);
    memory_region_add_subregion(&s->bar, 16 * KiB, s->scratch);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->bar);
}

static void pci_aperture_finalize(Object *obj)
{
    PCIApertureState *s = PCI_APERTURE(obj);

    g_free(s->scratch);
}

static void pci_aperture_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_aperture_realize;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x1122;
    k->revision = 0x01;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "PCI aperture";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo pci_aperture_info = {
    .name          = TYPE_PCI_APERTURE,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIApertureState),
    .instance_finalize = pci_aperture_finalize,
    .class_init    = pci_aperture_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_aperture_register_types(void)
{
    type_register_static(&pci_aperture_info);
}

type_init(pci_aperture_register_types)
