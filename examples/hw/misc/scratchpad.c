/*
 * Scratchpad RAM with a boot alias (lifecheck example)
 *
 * Shows: unparent-in-finalize on a sysbus device (severity: warning).
 * Applies to QEMU 10.1 and later; this tree is 10.2.2.
 *
 * The device exports its registers, a RAM scratchpad and an alias of the
 * scratchpad's first page as sysbus MMIO regions for the board to map.
 *
 * Bug: instance_finalize unparents the RAM region and the alias.  By the
 * time instance_finalize runs, QOM has already removed every child
 * property of the object, so the calls are at best no-ops on detached
 * objects.  This was the advice up to QEMU 10.0; the 2025 series "Do not
 * unparent in instance_finalize()" removed such calls, and 10.2's
 * docs/devel/memory.rst says never to call object_unparent() on a region
 * (aliases and containers excepted, but by now the alias is detached
 * too).  Freeing the plain label string in instance_finalize is fine.
 *
 * Fix: delete both object_unparent() calls; the regions are destroyed
 * together with their owner.
 *
 * Copyright (c) 2025 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "hw/sysbus.h"
#include "hw/qdev-properties.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_SCRATCHPAD "scratchpad"
OBJECT_DECLARE_SIMPLE_TYPE(ScratchpadState, SCRATCHPAD)

#define SCRATCHPAD_REGS_SIZE    0x100
#define SCRATCHPAD_BOOT_SIZE    (4 * KiB)

struct ScratchpadState {
    /*< private >*/
    SysBusDevice parent_obj;
    /*< public >*/

    MemoryRegion regs;
    MemoryRegion ram;
    MemoryRegion boot_alias;    /* first page of ram, for the reset vector */

    uint64_t size;
    char *label;
    uint32_t lock;
};

static uint64_t scratchpad_regs_read(void *opaque, hwaddr addr, unsigned size)
{
    ScratchpadState *s = opaque;

    switch (addr) {
    case 0x0:
        return s->size;
    case 0x8:
        return s->lock;
    default:
        return 0;
    }
}

static void scratchpad_regs_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    ScratchpadState *s = opaque;

    if (addr == 0x8 && !s->lock) {
        s->lock = val & 1;
        memory_region_set_enabled(&s->boot_alias, !s->lock);
    }
}

static const MemoryRegionOps scratchpad_regs_ops = {
    .read = scratchpad_regs_read,
    .write = scratchpad_regs_write,
    .endianness = DEVICE_NATIVE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};

static void scratchpad_init(Object *obj)
{
    ScratchpadState *s = SCRATCHPAD(obj);

    memory_region_init_io(&s->regs, obj, &scratchpad_regs_ops, s, "scratchpad.regs", SCRATCHPAD_REGS_SIZE);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->regs); /* lifecheck: ok[subregion-not-deleted] */
}

static void scratchpad_realize(DeviceState *dev, Error **errp)
{
    ScratchpadState *s = SCRATCHPAD(dev);
    SysBusDevice *sbd = SYS_BUS_DEVICE(dev);

    if (s->size < SCRATCHPAD_BOOT_SIZE) {
        error_setg(errp, "size must be at least 4 KiB");
        return;
    }
    if (!memory_region_init_ram(&s->ram, OBJECT(dev), "scratchpad.ram", s->size, errp)) {
        return;
    }
    sysbus_init_mmio(sbd, &s->ram); /* lifecheck: ok[subregion-not-deleted] */
    memory_region_init_alias(&s->boot_alias, OBJECT(dev), "scratchpad.boot", &s->ram, 0, SCRATCHPAD_BOOT_SIZE);
    sysbus_init_mmio(sbd, &s->boot_alias); /* lifecheck: ok[subregion-not-deleted] */
    s->label = g_strdup_printf("scratchpad@%s", dev->id ? dev->id : "anon");
}

static void scratchpad_finalize(Object *obj)
{
    ScratchpadState *s = SCRATCHPAD(obj);
    MemoryRegion *alias = &s->boot_alias;

    object_unparent(OBJECT(alias)); /* lifecheck: expect[unparent-in-finalize] */
    object_unparent(OBJECT(&s->ram)); /* lifecheck: expect[unparent-in-finalize] */
    g_free(s->label); /* lifecheck: ok[unparent-in-finalize] */
}

static const Property scratchpad_properties[] = {
    DEFINE_PROP_SIZE("size", ScratchpadState, size, 64 * KiB),
};

static void scratchpad_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = scratchpad_realize;
    dc->desc = "Scratchpad RAM";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    device_class_set_props(dc, scratchpad_properties);
}

static const TypeInfo scratchpad_info = {
    .name              = TYPE_SCRATCHPAD,
    .parent            = TYPE_SYS_BUS_DEVICE,
    .instance_size     = sizeof(ScratchpadState),
    .instance_init     = scratchpad_init,
    .instance_finalize = scratchpad_finalize,
    .class_init        = scratchpad_class_init,
};

static void scratchpad_register_types(void)
{
    type_register_static(&scratchpad_info);
}

type_init(scratchpad_register_types)
