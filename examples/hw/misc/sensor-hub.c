/*
 * Sensor hub with alarm thresholds (lifecheck example)
 *
 * Shows: init-leak, leak-on-unrealize through an array property, and
 * unowned-region-unparent, on a sysbus device.  Sysbus devices cannot be
 * hot-unplugged, so the findings are warnings; the init leaks happen all
 * the same whenever the object is created and finalized without realize
 * (device-introspect-test, "-device sensor-hub,help").
 *
 * Bugs:
 *  - instance_init allocates the alarm irq with qemu_allocate_irq() and
 *    registers vmstate by hand; instance_finalize releases neither
 *    (init-leak, twice).  Fix: qdev_init_gpio_in() and dc->vmsd, or
 *    release them in instance_finalize;
 *  - the "thresholds" array property's setter allocates s->thresholds;
 *    nothing frees it (leak-on-unrealize, reported at the property).
 *    The "offsets" array is freed in instance_finalize: correct;
 *  - the alarm window is created with a NULL owner and unparented on
 *    unrealize: the region belongs to the machine, not to the device
 *    (unowned-region-unparent; it is also memory reclaimed in unrealize,
 *    freed-in-unrealize).  Fix: OBJECT(s) as owner, no unparent.
 *
 * Correct, and not reported: the poll timer made in instance_init and
 * freed in instance_finalize; the bank container, also made with a NULL
 * owner and unparented on unrealize: docs/devel/memory.rst lets a
 * container (or an alias) be destroyed with object_unparent().
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
#include "migration/vmstate.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_SENSOR_HUB "sensor-hub"
OBJECT_DECLARE_SIMPLE_TYPE(SensorHubState, SENSOR_HUB)

struct SensorHubState {
    /*< private >*/
    SysBusDevice parent_obj;
    /*< public >*/

    MemoryRegion regs;
    MemoryRegion alarm_window;
    MemoryRegion bank;
    QEMUTimer *poll;
    qemu_irq alarm;

    uint32_t num_thresholds;
    uint32_t *thresholds;
    uint32_t num_offsets;
    int32_t *offsets;
    uint32_t status;
};

static const VMStateDescription vmstate_sensor_hub = {
    .name = "sensor-hub",
    .version_id = 1,
    .minimum_version_id = 1,
};

static uint64_t sensor_hub_read(void *opaque, hwaddr addr, unsigned size)
{
    SensorHubState *s = opaque;

    return s->status;
}

static void sensor_hub_write(void *opaque, hwaddr addr, uint64_t val,
                             unsigned size)
{
    SensorHubState *s = opaque;

    s->status &= ~val;
}

static const MemoryRegionOps sensor_hub_ops = {
    .read = sensor_hub_read,
    .write = sensor_hub_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

static void sensor_hub_alarm(void *opaque, int n, int level)
{
    SensorHubState *s = opaque;

    s->status |= level << n;
}

static void sensor_hub_poll(void *opaque)
{
    SensorHubState *s = opaque;

    qemu_set_irq(s->alarm, s->status != 0);
}

static void sensor_hub_init(Object *obj)
{
    SensorHubState *s = SENSOR_HUB(obj);

    memory_region_init_io(&s->regs, obj, &sensor_hub_ops, s, "sensor-hub", 0x100);
    sysbus_init_mmio(SYS_BUS_DEVICE(obj), &s->regs);
    s->poll = timer_new_ms(QEMU_CLOCK_VIRTUAL, sensor_hub_poll, s); /* lifecheck: ok[init-leak] */
    s->alarm = qemu_allocate_irq(sensor_hub_alarm, s, 0);  /* lifecheck: expect[init-leak] */
    vmstate_register(VMSTATE_IF(s), -1, &vmstate_sensor_hub, s); /* lifecheck: expect[init-leak] */
}

static void sensor_hub_realize(DeviceState *dev, Error **errp)
{
    SensorHubState *s = SENSOR_HUB(dev);

    memory_region_init_io(&s->alarm_window, NULL, &sensor_hub_ops, s,
                          "sensor-hub-alarm", 0x10);
    sysbus_init_mmio(SYS_BUS_DEVICE(dev), &s->alarm_window);
    memory_region_init(&s->bank, NULL, "sensor-hub-bank", 0x100);
}

static void sensor_hub_unrealize(DeviceState *dev)
{
    SensorHubState *s = SENSOR_HUB(dev);

    object_unparent(OBJECT(&s->alarm_window)); /* lifecheck: expect[unowned-region-unparent] expect[freed-in-unrealize] */
    object_unparent(OBJECT(&s->bank));         /* lifecheck: ok[unowned-region-unparent] */
}

static void sensor_hub_finalize(Object *obj)
{
    SensorHubState *s = SENSOR_HUB(obj);

    timer_free(s->poll);
    g_free(s->offsets);
}

static const Property sensor_hub_properties[] = {
    DEFINE_PROP_ARRAY("thresholds", SensorHubState, num_thresholds, /* lifecheck: expect[leak-on-unrealize] */
                      thresholds, qdev_prop_uint32, uint32_t),
    DEFINE_PROP_ARRAY("offsets", SensorHubState, num_offsets,       /* lifecheck: ok[leak-on-unrealize] */
                      offsets, qdev_prop_uint32, int32_t),
};

static void sensor_hub_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = sensor_hub_realize;
    dc->unrealize = sensor_hub_unrealize;
    device_class_set_props(dc, sensor_hub_properties);
}

static const TypeInfo sensor_hub_info = {
    .name          = TYPE_SENSOR_HUB,
    .parent        = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(SensorHubState),
    .instance_init = sensor_hub_init,
    .instance_finalize = sensor_hub_finalize,
    .class_init    = sensor_hub_class_init,
};

static void sensor_hub_register_types(void)
{
    type_register_static(&sensor_hub_info);
}

type_init(sensor_hub_register_types)
