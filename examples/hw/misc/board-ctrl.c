/*
 * Board control block (lifecheck example)
 *
 * Shows: a sysbus device with no findings, although its realize adds
 * several subregions and it has no unrealize at all.
 *
 * Everything the device maps goes into containers it owns: its embedded
 * s->container (exported with sysbus_init_mmio; the board maps it), or
 * the container of the LED block, a structure the device allocates
 * itself.  Such subregions go away together with their container, so
 * nothing needs removing.  The adds are made two helper calls below
 * realize, through a local alias of the LED block, and as an overlapping
 * alias.  The LED block is freed in instance_finalize, the right phase.
 *
 * Copyright (c) 2025 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qapi/error.h"
#include "hw/sysbus.h"
#include "hw/qdev-properties.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_BOARD_CTRL "board-ctrl"
OBJECT_DECLARE_SIMPLE_TYPE(BoardCtrlState, BOARD_CTRL)

#define BOARD_CTRL_SIZE         0x1000
#define BOARD_CTRL_ID_OFFSET    0x000
#define BOARD_CTRL_ID_SIZE      0x10
#define BOARD_CTRL_LEDS_OFFSET  0x100
#define BOARD_CTRL_LEDS_SIZE    0x100
#define BOARD_CTRL_MAX_LEDS     32

typedef struct BoardCtrlLeds {
    MemoryRegion container;
    MemoryRegion regs;
    uint32_t state;
    uint32_t mask;
} BoardCtrlLeds;

struct BoardCtrlState {
    /*< private >*/
    SysBusDevice parent_obj;
    /*< public >*/

    MemoryRegion container;     /* sysbus MMIO 0 */
    MemoryRegion id_regs;
    MemoryRegion id_alias;      /* id_regs again at the top of the block */
    BoardCtrlLeds *leds;

    uint32_t board_id;
    uint32_t num_leds;
};

static uint64_t board_ctrl_id_read(void *opaque, hwaddr addr, unsigned size)
{
    BoardCtrlState *s = opaque;

    return addr == 0 ? s->board_id : 0;
}

static void board_ctrl_id_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    qemu_log_mask(LOG_GUEST_ERROR, "board-ctrl: write to read-only id register 0x%x\n", (unsigned)addr);
}

static const MemoryRegionOps board_ctrl_id_ops = {
    .read = board_ctrl_id_read,
    .write = board_ctrl_id_write,
    .endianness = DEVICE_NATIVE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};

static uint64_t board_ctrl_leds_read(void *opaque, hwaddr addr, unsigned size)
{
    BoardCtrlLeds *leds = opaque;

    return leds->state;
}

static void board_ctrl_leds_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    BoardCtrlLeds *leds = opaque;

    leds->state = val & leds->mask;
}

static const MemoryRegionOps board_ctrl_leds_ops = {
    .read = board_ctrl_leds_read,
    .write = board_ctrl_leds_write,
    .endianness = DEVICE_NATIVE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};

static void board_ctrl_map(BoardCtrlState *s, hwaddr offset, MemoryRegion *mr)
{
    memory_region_add_subregion(&s->container, offset, mr); /* lifecheck: ok[subregion-not-deleted] */
}

static void board_ctrl_setup_leds(BoardCtrlState *s)
{
    g_autofree char *name = g_strdup_printf("board-ctrl.leds[%u]", s->num_leds);
    BoardCtrlLeds *leds;

    s->leds = g_new0(BoardCtrlLeds, 1);
    leds = s->leds;
    leds->mask = s->num_leds == 32 ? UINT32_MAX : (1u << s->num_leds) - 1;
    memory_region_init(&leds->container, OBJECT(s), name, BOARD_CTRL_LEDS_SIZE);
    memory_region_init_io(&leds->regs, OBJECT(s), &board_ctrl_leds_ops, leds, "board-ctrl.leds.regs", 4);
    memory_region_add_subregion(&leds->container, 0, &leds->regs); /* lifecheck: ok[subregion-not-deleted] */
    board_ctrl_map(s, BOARD_CTRL_LEDS_OFFSET, &leds->container);
}

static void board_ctrl_init(Object *obj)
{
    BoardCtrlState *s = BOARD_CTRL(obj);

    memory_region_init(&s->container, obj, "board-ctrl", BOARD_CTRL_SIZE);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->container); /* lifecheck: ok[subregion-not-deleted] */
}

static void board_ctrl_realize(DeviceState *dev, Error **errp)
{
    BoardCtrlState *s = BOARD_CTRL(dev);

    if (s->num_leds == 0 || s->num_leds > BOARD_CTRL_MAX_LEDS) {
        error_setg(errp, "num-leds must be between 1 and %d", BOARD_CTRL_MAX_LEDS);
        return;
    }

    memory_region_init_io(&s->id_regs, OBJECT(s), &board_ctrl_id_ops, s, "board-ctrl.id", BOARD_CTRL_ID_SIZE);
    board_ctrl_map(s, BOARD_CTRL_ID_OFFSET, &s->id_regs);
    memory_region_init_alias(&s->id_alias, OBJECT(s), "board-ctrl.id-alias", &s->id_regs, 0, BOARD_CTRL_ID_SIZE);
    memory_region_add_subregion_overlap(&s->container, BOARD_CTRL_SIZE - BOARD_CTRL_ID_SIZE, &s->id_alias, 1); /* lifecheck: ok[subregion-not-deleted] */
    board_ctrl_setup_leds(s);
}

static void board_ctrl_finalize(Object *obj)
{
    BoardCtrlState *s = BOARD_CTRL(obj);

    g_free(s->leds); /* lifecheck: ok[freed-in-unrealize] */
}

static const Property board_ctrl_properties[] = {
    DEFINE_PROP_UINT32("board-id", BoardCtrlState, board_id, 0),
    DEFINE_PROP_UINT32("num-leds", BoardCtrlState, num_leds, 8),
};

static void board_ctrl_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = board_ctrl_realize;
    dc->desc = "Board control block";
    dc->user_creatable = false;
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    device_class_set_props(dc, board_ctrl_properties);
}

static const TypeInfo board_ctrl_types[] = {
    {
        .name              = TYPE_BOARD_CTRL,
        .parent            = TYPE_SYS_BUS_DEVICE,
        .instance_size     = sizeof(BoardCtrlState),
        .instance_init     = board_ctrl_init,
        .instance_finalize = board_ctrl_finalize,
        .class_init        = board_ctrl_class_init,
    },
};

DEFINE_TYPES(board_ctrl_types)
