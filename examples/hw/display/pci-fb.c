/*
 * PCI framebuffer with a shared overlay (lifecheck example)
 *
 * Shows: leak-on-unrealize of a RAM registration for migration
 * (vmstate_register_ram) of memory the device does not own, next to the
 * same registration of its own video RAM, which needs no undoing.
 *
 * The device makes its video RAM with memory_region_init_ram_nomigrate()
 * and names it for migration with vmstate_register_ram(): that is what
 * memory_region_init_ram() does in one call, and the RAM block, with its
 * registration, goes when the region is finalized with the device.
 *
 * Bug: the overlay is a region some other object owns (fb_overlay_region()
 * hands it out); its registration outlives the device, and a device
 * plugged in again registers the same name a second time.  Fix:
 * vmstate_unregister_ram(s->overlay, DEVICE(s)) in exit, as pc-dimm and
 * ivshmem do for the memory of their back-ends.
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "migration/vmstate.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_FB "pci-fb"
OBJECT_DECLARE_SIMPLE_TYPE(PCIFbState, PCI_FB)

struct PCIFbState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    MemoryRegion vram;
    MemoryRegion *overlay;
};

MemoryRegion *fb_overlay_region(const char *name);

static void pci_fb_realize(PCIDevice *pdev, Error **errp)
{
    PCIFbState *s = PCI_FB(pdev);

    if (!memory_region_init_ram_nomigrate(&s->vram, OBJECT(s), "fb.vram", 16 * MiB, errp)) {
        return;
    }
    vmstate_register_ram(&s->vram, DEVICE(s));     /* lifecheck: ok[leak-on-unrealize] */
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_MEM_PREFETCH, &s->vram);

    s->overlay = fb_overlay_region("fb.overlay");
    vmstate_register_ram(s->overlay, DEVICE(s));   /* lifecheck: expect[leak-on-unrealize] */
}

static void pci_fb_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_fb_realize;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10fc;
    k->class_id = PCI_CLASS_DISPLAY_OTHER;
}

static const TypeInfo pci_fb_info = {
    .name          = TYPE_PCI_FB,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIFbState),
    .class_init    = pci_fb_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_fb_register_types(void)
{
    type_register_static(&pci_fb_info);
}

type_init(pci_fb_register_types)
