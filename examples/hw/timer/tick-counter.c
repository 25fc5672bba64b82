/*
 * Tick counter with a legacy I/O port (lifecheck example)
 *
 * Shows: del-subregion-in-finalize, and the subregion-not-deleted it
 * implies, on a sysbus device (severity: warning: a sysbus device cannot
 * be unplugged, so the bug only bites when a board tears devices down).
 *
 * The counter registers are a sysbus MMIO region (the board maps it: not
 * the device's business).  The legacy latch port is mapped by realize into
 * the system I/O space.
 *
 * Bug: the port is removed in instance_finalize.  That is too late: the
 * mapping holds a reference to the device, so finalize never runs while
 * the port is mapped, and between unrealize and finalize the guest can
 * still reach the port.  So the add in realize has no matching removal in
 * unrealize (subregion-not-deleted) and the removal in finalize is in the
 * wrong phase (del-subregion-in-finalize).
 *
 * Fix: add an unrealize hook that does
 *     memory_region_del_subregion(get_system_io(), &s->latch);
 * and drop the call from tick_counter_finalize().
 *
 * Copyright (c) 2025 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/irq.h"
#include "hw/sysbus.h"
#include "hw/qdev-properties.h"
#include "system/address-spaces.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_TICK_COUNTER "tick-counter"
OBJECT_DECLARE_SIMPLE_TYPE(TickCounterState, TICK_COUNTER)

#define TICK_COUNTER_MMIO_SIZE  0x10
#define TICK_COUNTER_LATCH_SIZE 2

struct TickCounterState {
    /*< private >*/
    SysBusDevice parent_obj;
    /*< public >*/

    MemoryRegion mmio;
    MemoryRegion latch;
    QEMUTimer *timer;
    qemu_irq irq;

    uint32_t iobase;
    uint32_t period_ns;
    uint64_t ticks;
    uint16_t latched;
};

static void tick_counter_tick(void *opaque)
{
    TickCounterState *s = opaque;

    s->ticks++;
    qemu_irq_raise(s->irq);
    timer_mod(s->timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + s->period_ns);
}

static uint64_t tick_counter_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    TickCounterState *s = opaque;

    switch (addr) {
    case 0x0:
        return (uint32_t)s->ticks;
    case 0x4:
        return s->ticks >> 32;
    case 0x8:
        return s->period_ns;
    default:
        return 0;
    }
}

static void tick_counter_mmio_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    TickCounterState *s = opaque;

    if (addr == 0xc) {
        qemu_irq_lower(s->irq);
    }
}

static const MemoryRegionOps tick_counter_mmio_ops = {
    .read = tick_counter_mmio_read,
    .write = tick_counter_mmio_write,
    .endianness = DEVICE_NATIVE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};

static uint64_t tick_counter_latch_read(void *opaque, hwaddr addr, unsigned size)
{
    TickCounterState *s = opaque;

    return addr ? s->latched >> 8 : s->latched & 0xff;
}

static void tick_counter_latch_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    TickCounterState *s = opaque;

    s->latched = s->ticks;
}

static const MemoryRegionOps tick_counter_latch_ops = {
    .read = tick_counter_latch_read,
    .write = tick_counter_latch_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .impl = {
        .min_access_size = 1,
        .max_access_size = 1,
    },
};

static void tick_counter_init(Object *obj)
{
    TickCounterState *s = TICK_COUNTER(obj);
    SysBusDevice *sbd = SYS_BUS_DEVICE(obj);

    memory_region_init_io(&s->mmio, obj, &tick_counter_mmio_ops, s, "tick-counter.mmio", TICK_COUNTER_MMIO_SIZE);
    sysbus_init_mmio(sbd, &s->mmio); /* lifecheck: ok[subregion-not-deleted] */
    memory_region_init_io(&s->latch, obj, &tick_counter_latch_ops, s, "tick-counter.latch", TICK_COUNTER_LATCH_SIZE);
    sysbus_init_irq(sbd, &s->irq);
}

static void tick_counter_realize(DeviceState *dev, Error **errp)
{
    TickCounterState *s = TICK_COUNTER(dev);

    if (!s->period_ns) {
        error_setg(errp, "period-ns must not be zero");
        return;
    }

    memory_region_add_subregion(get_system_io(), s->iobase, &s->latch); /* lifecheck: expect[subregion-not-deleted] */
    s->timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, tick_counter_tick, s);
    timer_mod(s->timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + s->period_ns);
}

static void tick_counter_finalize(Object *obj)
{
    TickCounterState *s = TICK_COUNTER(obj);

    timer_free(s->timer);
    memory_region_del_subregion(get_system_io(), &s->latch); /* lifecheck: expect[del-subregion-in-finalize] */
}

static const Property tick_counter_properties[] = {
    DEFINE_PROP_UINT32("iobase", TickCounterState, iobase, 0x440),
    DEFINE_PROP_UINT32("period-ns", TickCounterState, period_ns, 1000000),
};

static void tick_counter_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = tick_counter_realize;
    dc->desc = "Tick counter";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    device_class_set_props(dc, tick_counter_properties);
}

static const TypeInfo tick_counter_types[] = {
    {
        .name              = TYPE_TICK_COUNTER,
        .parent            = TYPE_SYS_BUS_DEVICE,
        .instance_size     = sizeof(TickCounterState),
        .instance_init     = tick_counter_init,
        .instance_finalize = tick_counter_finalize,
        .class_init        = tick_counter_class_init,
    },
};

DEFINE_TYPES(tick_counter_types)
