/*
 * Simple UART and its PC-compatible variant (lifecheck example)
 *
 * Shows: subregion-not-deleted in a realize chained with
 * device_class_set_parent_realize() (severity: warning, sysbus).
 *
 * uart-lite is a plain sysbus UART: its registers sit in a container it
 * owns and exports with sysbus_init_mmio().  uart-lite-pc derives from it
 * and chains realize and unrealize with device_class_set_parent_realize()
 * and device_class_set_parent_unrealize().  Its realize maps a COM port
 * into the system I/O space (removed again in unrealize: correct), adds a
 * scratch register to the parent's container (reached through the parent
 * type's cast; owned by the device: correct) and maps an alias of the
 * parent's container into system memory.
 *
 * Bug: the system memory alias is never removed.
 *
 * Fix: in uart_lite_pc_unrealize(), add
 *     memory_region_del_subregion(get_system_memory(), &pc->legacy_mmio);
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

#define TYPE_UART_LITE "uart-lite"
OBJECT_DECLARE_SIMPLE_TYPE(UartLiteState, UART_LITE)

#define TYPE_UART_LITE_PC "uart-lite-pc"
OBJECT_DECLARE_TYPE(UartLitePCState, UartLitePCClass, UART_LITE_PC)

#define UART_LITE_MMIO_SIZE     0x20
#define UART_LITE_REGS_SIZE     0x10
#define UART_LITE_SCRATCH_OFF   0x10
#define UART_LITE_PC_IO_SIZE    8
#define UART_LITE_PC_MMIO_BASE  0xfe000000
#define UART_LITE_POLL_NS       (1000 * 1000)

#define UART_LITE_REG_DATA      0x0
#define UART_LITE_REG_STATUS    0x4
#define UART_LITE_STATUS_RXRDY  0x1

struct UartLiteState {
    /*< private >*/
    SysBusDevice parent_obj;
    /*< public >*/

    MemoryRegion container;     /* sysbus MMIO 0 */
    MemoryRegion regs;
    QEMUTimer *poll_timer;
    qemu_irq irq;

    uint8_t rx;
    uint32_t status;
};

struct UartLitePCState {
    /*< private >*/
    UartLiteState parent_obj;
    /*< public >*/

    MemoryRegion legacy_io;     /* COM port, in the system I/O space */
    MemoryRegion legacy_mmio;   /* alias of the container, in system memory */
    MemoryRegion scratch;       /* in the parent's container */

    uint32_t iobase;
    uint8_t scratch_val;
};

struct UartLitePCClass {
    /*< private >*/
    SysBusDeviceClass parent_class;
    /*< public >*/

    DeviceRealize parent_realize;
    DeviceUnrealize parent_unrealize;
};

static uint64_t uart_lite_read(void *opaque, hwaddr addr, unsigned size)
{
    UartLiteState *s = opaque;

    switch (addr) {
    case UART_LITE_REG_DATA:
        s->status &= ~UART_LITE_STATUS_RXRDY;
        qemu_irq_lower(s->irq);
        return s->rx;
    case UART_LITE_REG_STATUS:
        return s->status;
    default:
        return 0;
    }
}

static void uart_lite_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    /* transmit: the example has no character back-end */
}

static const MemoryRegionOps uart_lite_ops = {
    .read = uart_lite_read,
    .write = uart_lite_write,
    .endianness = DEVICE_NATIVE_ENDIAN,
};

static void uart_lite_poll(void *opaque)
{
    UartLiteState *s = opaque;

    if (s->status & UART_LITE_STATUS_RXRDY) {
        qemu_irq_raise(s->irq);
    }
    timer_mod(s->poll_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + UART_LITE_POLL_NS);
}

static void uart_lite_init(Object *obj)
{
    UartLiteState *s = UART_LITE(obj);
    SysBusDevice *sbd = SYS_BUS_DEVICE(obj);

    memory_region_init(&s->container, obj, "uart-lite", UART_LITE_MMIO_SIZE);
    sysbus_init_mmio(sbd, &s->container); /* lifecheck: ok[subregion-not-deleted] */
    sysbus_init_irq(sbd, &s->irq);
}

static void uart_lite_realize(DeviceState *dev, Error **errp)
{
    UartLiteState *s = UART_LITE(dev);

    memory_region_init_io(&s->regs, OBJECT(s), &uart_lite_ops, s, "uart-lite.regs", UART_LITE_REGS_SIZE);
    memory_region_add_subregion(&s->container, 0, &s->regs); /* lifecheck: ok[subregion-not-deleted] */
    s->poll_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, uart_lite_poll, s);
}

static void uart_lite_unrealize(DeviceState *dev)
{
    UartLiteState *s = UART_LITE(dev);

    timer_free(s->poll_timer);
}

static void uart_lite_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = uart_lite_realize;
    dc->unrealize = uart_lite_unrealize;
    dc->desc = "Simple UART";
}

static uint64_t uart_lite_pc_scratch_read(void *opaque, hwaddr addr, unsigned size)
{
    UartLitePCState *pc = opaque;

    return pc->scratch_val;
}

static void uart_lite_pc_scratch_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    UartLitePCState *pc = opaque;

    pc->scratch_val = val;
}

static const MemoryRegionOps uart_lite_pc_scratch_ops = {
    .read = uart_lite_pc_scratch_read,
    .write = uart_lite_pc_scratch_write,
    .endianness = DEVICE_NATIVE_ENDIAN,
};

static void uart_lite_pc_realize(DeviceState *dev, Error **errp)
{
    UartLitePCClass *k = UART_LITE_PC_GET_CLASS(dev);
    UartLitePCState *pc = UART_LITE_PC(dev);
    UartLiteState *s = UART_LITE(dev);
    Error *local_err = NULL;

    k->parent_realize(dev, &local_err);
    if (local_err) {
        error_propagate(errp, local_err);
        return;
    }

    memory_region_init_io(&pc->scratch, OBJECT(pc), &uart_lite_pc_scratch_ops, pc, "uart-lite-pc.scratch", 1);
    memory_region_add_subregion(&s->container, UART_LITE_SCRATCH_OFF, &pc->scratch); /* lifecheck: ok[subregion-not-deleted] */

    memory_region_init_io(&pc->legacy_io, OBJECT(pc), &uart_lite_ops, s, "uart-lite-pc.io", UART_LITE_PC_IO_SIZE);
    memory_region_add_subregion(get_system_io(), pc->iobase, &pc->legacy_io); /* lifecheck: ok[subregion-not-deleted] */

    memory_region_init_alias(&pc->legacy_mmio, OBJECT(pc), "uart-lite-pc.mmio", &s->container, 0, UART_LITE_MMIO_SIZE);
    memory_region_add_subregion(get_system_memory(), UART_LITE_PC_MMIO_BASE, &pc->legacy_mmio); /* lifecheck: expect[subregion-not-deleted] */
}

static void uart_lite_pc_unrealize(DeviceState *dev)
{
    UartLitePCClass *k = UART_LITE_PC_GET_CLASS(dev);
    UartLitePCState *pc = UART_LITE_PC(dev);

    memory_region_del_subregion(get_system_io(), &pc->legacy_io);
    k->parent_unrealize(dev);
}

static const Property uart_lite_pc_properties[] = {
    DEFINE_PROP_UINT32("iobase", UartLitePCState, iobase, 0x3f8),
};

static void uart_lite_pc_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    UartLitePCClass *k = UART_LITE_PC_CLASS(klass);

    device_class_set_parent_realize(dc, uart_lite_pc_realize, &k->parent_realize);
    device_class_set_parent_unrealize(dc, uart_lite_pc_unrealize, &k->parent_unrealize);
    dc->desc = "Simple UART with PC-compatible legacy decoding";
    device_class_set_props(dc, uart_lite_pc_properties);
}

static const TypeInfo uart_lite_types[] = {
    {
        .name          = TYPE_UART_LITE,
        .parent        = TYPE_SYS_BUS_DEVICE,
        .instance_size = sizeof(UartLiteState),
        .instance_init = uart_lite_init,
        .class_init    = uart_lite_class_init,
    },
    {
        .name          = TYPE_UART_LITE_PC,
        .parent        = TYPE_UART_LITE,
        .instance_size = sizeof(UartLitePCState),
        .class_size    = sizeof(UartLitePCClass),
        .class_init    = uart_lite_pc_class_init,
    },
};

DEFINE_TYPES(uart_lite_types)
