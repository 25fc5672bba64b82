/*
 * Flash controller window on an SoC bus (lifecheck example)
 *
 * Shows: subregion-not-deleted with a container reached through a link
 * property (severity: warning, sysbus).
 *
 * The board passes the SoC bus region in the "downstream" link property.
 * realize maps the flash contents into it, and an alias of the first
 * 64 KiB at address 0 so that the CPU boots from flash.  The downstream
 * region belongs to the board, not to the device, so everything mapped
 * into it must be removed in unrealize.
 *
 * Bug: unrealize removes the contents window but not the boot alias.
 * The contents window is added through a local alias (mr) and removed
 * through &s->contents: the same region, so that pair is correct.
 *
 * Fix: in flash_window_unrealize(), add
 *     memory_region_del_subregion(s->downstream, &s->boot_alias);
 *
 * Copyright (c) 2025 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "hw/sysbus.h"
#include "hw/qdev-properties.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_FLASH_WINDOW "flash-window"
OBJECT_DECLARE_SIMPLE_TYPE(FlashWindowState, FLASH_WINDOW)

#define FLASH_WINDOW_REGS_SIZE  0x100
#define FLASH_WINDOW_BOOT_SIZE  (64 * KiB)

struct FlashWindowState {
    /*< private >*/
    SysBusDevice parent_obj;
    /*< public >*/

    MemoryRegion regs;          /* controller registers: sysbus MMIO 0 */
    MemoryRegion contents;      /* flash contents, in downstream */
    MemoryRegion boot_alias;    /* alias of contents at address 0 */
    MemoryRegion *downstream;   /* link property: the SoC bus */

    uint64_t window_base;
    uint64_t size;
    uint32_t status;
    uint8_t *data;
};

static uint64_t flash_window_regs_read(void *opaque, hwaddr addr, unsigned size)
{
    FlashWindowState *s = opaque;

    return addr == 0 ? s->status : 0;
}

static void flash_window_regs_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    qemu_log_mask(LOG_UNIMP, "flash-window: programming is not implemented\n");
}

static const MemoryRegionOps flash_window_regs_ops = {
    .read = flash_window_regs_read,
    .write = flash_window_regs_write,
    .endianness = DEVICE_NATIVE_ENDIAN,
};

static uint64_t flash_window_contents_read(void *opaque, hwaddr addr, unsigned size)
{
    FlashWindowState *s = opaque;

    return s->data[addr];
}

static void flash_window_contents_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    qemu_log_mask(LOG_GUEST_ERROR, "flash-window: write to read-only flash\n");
}

static const MemoryRegionOps flash_window_contents_ops = {
    .read = flash_window_contents_read,
    .write = flash_window_contents_write,
    .endianness = DEVICE_NATIVE_ENDIAN,
    .impl = {
        .min_access_size = 1,
        .max_access_size = 1,
    },
};

static void flash_window_init(Object *obj)
{
    FlashWindowState *s = FLASH_WINDOW(obj);

    memory_region_init_io(&s->regs, obj, &flash_window_regs_ops, s, "flash-window.regs", FLASH_WINDOW_REGS_SIZE);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->regs); /* lifecheck: ok[subregion-not-deleted] */
}

static void flash_window_realize(DeviceState *dev, Error **errp)
{
    FlashWindowState *s = FLASH_WINDOW(dev);
    MemoryRegion *mr = &s->contents;

    if (!s->downstream) {
        error_setg(errp, "flash-window: 'downstream' link not set");
        return;
    }
    if (s->size < FLASH_WINDOW_BOOT_SIZE) {
        error_setg(errp, "flash-window: size must be at least 64 KiB");
        return;
    }

    s->data = g_malloc0(s->size);
    memory_region_init_io(mr, OBJECT(s), &flash_window_contents_ops, s, "flash-window.contents", s->size);
    memory_region_add_subregion(s->downstream, s->window_base, mr); /* lifecheck: ok[subregion-not-deleted] */
    memory_region_init_alias(&s->boot_alias, OBJECT(s), "flash-window.boot", mr, 0, FLASH_WINDOW_BOOT_SIZE);
    memory_region_add_subregion_overlap(s->downstream, 0, &s->boot_alias, 1); /* lifecheck: expect[subregion-not-deleted] */
}

static void flash_window_unrealize(DeviceState *dev)
{
    FlashWindowState *s = FLASH_WINDOW(dev);

    memory_region_del_subregion(s->downstream, &s->contents);
}

static void flash_window_finalize(Object *obj)
{
    FlashWindowState *s = FLASH_WINDOW(obj);

    g_free(s->data);
}

static const Property flash_window_properties[] = {
    DEFINE_PROP_LINK("downstream", FlashWindowState, downstream, TYPE_MEMORY_REGION, MemoryRegion *),
    DEFINE_PROP_UINT64("window-base", FlashWindowState, window_base, 0x08000000),
    DEFINE_PROP_SIZE("size", FlashWindowState, size, 1 * MiB),
};

static void flash_window_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = flash_window_realize;
    dc->unrealize = flash_window_unrealize;
    dc->desc = "Flash controller window";
    dc->user_creatable = false;
    set_bit(DEVICE_CATEGORY_STORAGE, dc->categories);
    device_class_set_props(dc, flash_window_properties);
}

static const TypeInfo flash_window_types[] = {
    {
        .name              = TYPE_FLASH_WINDOW,
        .parent            = TYPE_SYS_BUS_DEVICE,
        .instance_size     = sizeof(FlashWindowState),
        .instance_init     = flash_window_init,
        .instance_finalize = flash_window_finalize,
        .class_init        = flash_window_class_init,
    },
};

DEFINE_TYPES(flash_window_types)
