/*
 * Firmware debug port (lifecheck example)
 *
 * Shows: subregion-not-deleted with a container held in a global
 * (severity: warning, sysbus).
 *
 * The board registers the I/O region the debug ports decode in with
 * debug_port_set_io_space(); every debug-port device maps its data port
 * and its status port into that region.  The region belongs to the
 * board.  The status port is mapped by a helper that receives the region
 * as a parameter, and is removed in unrealize: correct.
 *
 * Bug: the data port is never removed.
 *
 * Fix: in debug_port_unrealize(), add
 *     memory_region_del_subregion(debug_port_io_space, &s->data);
 *
 * Copyright (c) 2025 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/sysbus.h"
#include "hw/qdev-properties.h"
#include "hw/misc/debug-port.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

OBJECT_DECLARE_SIMPLE_TYPE(DebugPortState, DEBUG_PORT)

#define DEBUG_PORT_BUF_SIZE 256

struct DebugPortState {
    /*< private >*/
    SysBusDevice parent_obj;
    /*< public >*/

    MemoryRegion data;
    MemoryRegion status;

    uint32_t port;
    char buf[DEBUG_PORT_BUF_SIZE];
    unsigned len;
};

/* Set by the board; not owned by any debug-port device. */
static MemoryRegion *debug_port_io_space;

void debug_port_set_io_space(MemoryRegion *space)
{
    debug_port_io_space = space;
}

static uint64_t debug_port_data_read(void *opaque, hwaddr addr, unsigned size)
{
    return 0xe9;
}

static void debug_port_data_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    DebugPortState *s = opaque;

    if (val == '\n' || s->len == DEBUG_PORT_BUF_SIZE - 1) {
        s->len = 0;
        return;
    }
    s->buf[s->len++] = val;
    s->buf[s->len] = '\0';
}

static const MemoryRegionOps debug_port_data_ops = {
    .read = debug_port_data_read,
    .write = debug_port_data_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

static uint64_t debug_port_status_read(void *opaque, hwaddr addr, unsigned size)
{
    DebugPortState *s = opaque;

    return s->len;
}

static void debug_port_status_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
}

static const MemoryRegionOps debug_port_status_ops = {
    .read = debug_port_status_read,
    .write = debug_port_status_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

static void debug_port_map_status(DebugPortState *s, MemoryRegion *space)
{
    memory_region_init_io(&s->status, OBJECT(s), &debug_port_status_ops, s, "debug-port.status", 1);
    memory_region_add_subregion(space, s->port + 1, &s->status); /* lifecheck: ok[subregion-not-deleted] */
}

static void debug_port_realize(DeviceState *dev, Error **errp)
{
    DebugPortState *s = DEBUG_PORT(dev);

    if (!debug_port_io_space) {
        error_setg(errp, "debug-port: the board did not set an I/O space");
        return;
    }

    memory_region_init_io(&s->data, OBJECT(s), &debug_port_data_ops, s, "debug-port.data", 1);
    memory_region_add_subregion(debug_port_io_space, s->port, &s->data); /* lifecheck: expect[subregion-not-deleted] */
    debug_port_map_status(s, debug_port_io_space);
}

static void debug_port_unrealize(DeviceState *dev)
{
    DebugPortState *s = DEBUG_PORT(dev);

    memory_region_del_subregion(debug_port_io_space, &s->status);
}

static const Property debug_port_properties[] = {
    DEFINE_PROP_UINT32("iobase", DebugPortState, port, 0x402),
};

static void debug_port_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = debug_port_realize;
    dc->unrealize = debug_port_unrealize;
    dc->desc = "Firmware debug port";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    device_class_set_props(dc, debug_port_properties);
}

static const TypeInfo debug_port_info = {
    .name          = TYPE_DEBUG_PORT,
    .parent        = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(DebugPortState),
    .class_init    = debug_port_class_init,
};

static void debug_port_register_types(void)
{
    type_register_static(&debug_port_info);
}

type_init(debug_port_register_types)
