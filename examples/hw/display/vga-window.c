/*
 * PCI display with a legacy VGA window (lifecheck example)
 *
 * Shows: subregion-not-deleted on a PCI device (severity: error).
 *
 * The device has a memory BAR (a container holding its registers and its
 * video RAM) and, like a VGA card, answers at the legacy addresses too: an
 * alias of the first 128 KiB of video RAM at 0xa0000 of the PCI memory
 * space, and the VGA ports at 0x3c0 of the PCI I/O space.
 *
 * Bug: realize maps the low-memory alias into pci_address_space(), which
 * belongs to the bus, and exit never removes it.  After hot-unplug the
 * guest can still reach the alias, and the mapping keeps a reference to
 * the device, so it is never finalized.  The VGA ports are mapped the same
 * way but are removed in exit: that is the correct pattern.  Subregions of
 * the device's own BAR container need no removal (they go away with it),
 * and the BAR itself is the PCI core's business.
 *
 * Fix: in vga_window_exit(), add
 *     memory_region_del_subregion(pci_address_space(pdev), &s->lowmem);
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

#define TYPE_PCI_VGA_WINDOW "pci-vga-window"
OBJECT_DECLARE_SIMPLE_TYPE(PCIVGAWindowState, PCI_VGA_WINDOW)

#define VGA_WINDOW_REGS_SIZE        (4 * KiB)
#define VGA_WINDOW_LOWMEM_BASE      0xa0000
#define VGA_WINDOW_LOWMEM_SIZE      (128 * KiB)
#define VGA_WINDOW_IOPORT_BASE      0x3c0
#define VGA_WINDOW_IOPORT_SIZE      0x20

struct PCIVGAWindowState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    MemoryRegion bar;           /* BAR 0: container for regs and vram */
    MemoryRegion regs;
    MemoryRegion vram;
    MemoryRegion lowmem;        /* alias of vram at 0xa0000 */
    MemoryRegion ioports;       /* VGA ports at 0x3c0 */

    uint32_t vram_size;
    uint8_t index;
    uint8_t regfile[VGA_WINDOW_IOPORT_SIZE];
};

static uint64_t vga_window_regs_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIVGAWindowState *s = opaque;

    switch (addr) {
    case 0x0:
        return s->vram_size;
    case 0x4:
        return s->index;
    default:
        return 0;
    }
}

static void vga_window_regs_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PCIVGAWindowState *s = opaque;

    if (addr == 0x4) {
        s->index = val % VGA_WINDOW_IOPORT_SIZE;
    }
}

static const MemoryRegionOps vga_window_regs_ops = {
    .read = vga_window_regs_read,
    .write = vga_window_regs_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};

static uint64_t vga_window_ioport_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIVGAWindowState *s = opaque;

    return s->regfile[addr];
}

static void vga_window_ioport_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PCIVGAWindowState *s = opaque;

    s->regfile[addr] = val;
}

static const MemoryRegionOps vga_window_ioport_ops = {
    .read = vga_window_ioport_read,
    .write = vga_window_ioport_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .impl = {
        .min_access_size = 1,
        .max_access_size = 1,
    },
};

static void vga_window_realize(PCIDevice *pdev, Error **errp)
{
    PCIVGAWindowState *s = PCI_VGA_WINDOW(pdev);

    if (s->vram_size < VGA_WINDOW_LOWMEM_SIZE) {
        error_setg(errp, "vram-size must be at least %d KiB", (int)(VGA_WINDOW_LOWMEM_SIZE / KiB));
        return;
    }

    memory_region_init(&s->bar, OBJECT(s), "vga-window.bar", 2 * s->vram_size);
    memory_region_init_io(&s->regs, OBJECT(s), &vga_window_regs_ops, s, "vga-window.regs", VGA_WINDOW_REGS_SIZE);
    memory_region_add_subregion(&s->bar, 0, &s->regs); /* lifecheck: ok[subregion-not-deleted] */
    if (!memory_region_init_ram(&s->vram, OBJECT(s), "vga-window.vram", s->vram_size, errp)) {
        return;
    }
    memory_region_add_subregion(&s->bar, s->vram_size, &s->vram); /* lifecheck: ok[subregion-not-deleted] */
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY | PCI_BASE_ADDRESS_MEM_PREFETCH, &s->bar); /* lifecheck: ok[subregion-not-deleted] */

    /* Legacy VGA memory: mapped into the bus's memory space. */
    memory_region_init_alias(&s->lowmem, OBJECT(s), "vga-window.lowmem", &s->vram, 0, VGA_WINDOW_LOWMEM_SIZE);
    memory_region_add_subregion_overlap(pci_address_space(pdev), VGA_WINDOW_LOWMEM_BASE, &s->lowmem, 1); /* lifecheck: expect[subregion-not-deleted] */

    /* Legacy VGA ports: mapped into the bus's I/O space. */
    memory_region_init_io(&s->ioports, OBJECT(s), &vga_window_ioport_ops, s, "vga-window.ioports", VGA_WINDOW_IOPORT_SIZE);
    memory_region_add_subregion(pci_address_space_io(pdev), VGA_WINDOW_IOPORT_BASE, &s->ioports); /* lifecheck: ok[subregion-not-deleted] */
}

static void vga_window_exit(PCIDevice *pdev)
{
    PCIVGAWindowState *s = PCI_VGA_WINDOW(pdev);

    memory_region_del_subregion(pci_address_space_io(pdev), &s->ioports);
    /* s->lowmem is left mapped in pci_address_space(pdev). */
}

static const Property vga_window_properties[] = {
    DEFINE_PROP_UINT32("vram-size", PCIVGAWindowState, vram_size, 4 * MiB),
};

static void vga_window_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = vga_window_realize;
    k->exit = vga_window_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x1111;
    k->revision = 0x01;
    k->class_id = PCI_CLASS_DISPLAY_VGA;
    dc->desc = "PCI display with a legacy VGA window";
    set_bit(DEVICE_CATEGORY_DISPLAY, dc->categories);
    device_class_set_props(dc, vga_window_properties);
}

static const TypeInfo vga_window_info = {
    .name          = TYPE_PCI_VGA_WINDOW,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIVGAWindowState),
    .class_init    = vga_window_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void vga_window_register_types(void)
{
    type_register_static(&vga_window_info);
}

type_init(vga_window_register_types)
