/*
 * USB LED gadget with a debug port (lifecheck example)
 *
 * Shows: a USB device with no findings.
 *
 * The gadget blinks an LED at a rate the host sets with a control
 * request.  For debugging it also exposes its state as a small port
 * block in the system I/O space: a container the device owns, holding
 * the status and rate ports.  realize maps the container (through a
 * local alias, mr) into the system I/O space, which the device does not
 * own; unrealize removes it again (through &s->ports: the same region).
 * The two ports inside the container need no removal.  The blink timer
 * is created in realize and freed in unrealize.
 *
 * Copyright (c) 2025 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/usb.h"
#include "hw/qdev-properties.h"
#include "system/address-spaces.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_USB_LED "usb-led"
OBJECT_DECLARE_SIMPLE_TYPE(USBLEDState, USB_LED)

#define USB_LED_REQ_SET_RATE    0x4001
#define USB_LED_DEFAULT_RATE_MS 500
#define USB_LED_PORTS_SIZE      4

struct USBLEDState {
    USBDevice dev;

    MemoryRegion ports;         /* container, in the system I/O space */
    MemoryRegion status_port;
    MemoryRegion rate_port;
    QEMUTimer *blink_timer;

    uint32_t debug_port;
    uint32_t rate_ms;
    bool on;
};

static void usb_led_blink(void *opaque)
{
    USBLEDState *s = opaque;

    s->on = !s->on;
    timer_mod(s->blink_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + (int64_t)s->rate_ms * 1000000);
}

static uint64_t usb_led_status_read(void *opaque, hwaddr addr, unsigned size)
{
    USBLEDState *s = opaque;

    return s->on;
}

static uint64_t usb_led_rate_read(void *opaque, hwaddr addr, unsigned size)
{
    USBLEDState *s = opaque;

    return s->rate_ms;
}

static void usb_led_port_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    /* read-only */
}

static const MemoryRegionOps usb_led_status_ops = {
    .read = usb_led_status_read,
    .write = usb_led_port_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

static const MemoryRegionOps usb_led_rate_ops = {
    .read = usb_led_rate_read,
    .write = usb_led_port_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

static void usb_led_handle_reset(USBDevice *dev)
{
    USBLEDState *s = USB_LED(dev);

    s->rate_ms = USB_LED_DEFAULT_RATE_MS;
    s->on = false;
}

static void usb_led_handle_control(USBDevice *dev, USBPacket *p, int request, int value, int index, int length, uint8_t *data)
{
    USBLEDState *s = USB_LED(dev);

    if (request != USB_LED_REQ_SET_RATE || value == 0) {
        p->status = USB_RET_STALL;
        return;
    }
    s->rate_ms = value;
    p->status = USB_RET_SUCCESS;
}

static void usb_led_handle_data(USBDevice *dev, USBPacket *p)
{
    p->status = USB_RET_STALL;
}

static void usb_led_realize(USBDevice *dev, Error **errp)
{
    USBLEDState *s = USB_LED(dev);
    MemoryRegion *mr = &s->ports;

    memory_region_init(mr, OBJECT(s), "usb-led.ports", USB_LED_PORTS_SIZE);
    memory_region_init_io(&s->status_port, OBJECT(s), &usb_led_status_ops, s, "usb-led.status", 2);
    memory_region_add_subregion(mr, 0, &s->status_port); /* lifecheck: ok[subregion-not-deleted] */
    memory_region_init_io(&s->rate_port, OBJECT(s), &usb_led_rate_ops, s, "usb-led.rate", 2);
    memory_region_add_subregion(mr, 2, &s->rate_port); /* lifecheck: ok[subregion-not-deleted] */
    memory_region_add_subregion(get_system_io(), s->debug_port, mr); /* lifecheck: ok[subregion-not-deleted] */

    s->rate_ms = USB_LED_DEFAULT_RATE_MS;
    s->blink_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, usb_led_blink, s);
    timer_mod(s->blink_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + (int64_t)s->rate_ms * 1000000);
}

static void usb_led_unrealize(USBDevice *dev)
{
    USBLEDState *s = USB_LED(dev);

    memory_region_del_subregion(get_system_io(), &s->ports);
    timer_free(s->blink_timer);
}

static const Property usb_led_properties[] = {
    DEFINE_PROP_UINT32("debug-port", USBLEDState, debug_port, 0x4f0),
};

static void usb_led_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    USBDeviceClass *uc = USB_DEVICE_CLASS(klass);

    uc->realize = usb_led_realize;
    uc->unrealize = usb_led_unrealize;
    uc->product_desc = "QEMU USB LED";
    uc->handle_reset = usb_led_handle_reset;
    uc->handle_control = usb_led_handle_control;
    uc->handle_data = usb_led_handle_data;
    dc->desc = "USB LED gadget";
    dc->hotpluggable = true;
    set_bit(DEVICE_CATEGORY_USB, dc->categories);
    device_class_set_props(dc, usb_led_properties);
}

static const TypeInfo usb_led_info = {
    .name          = TYPE_USB_LED,
    .parent        = TYPE_USB_DEVICE,
    .instance_size = sizeof(USBLEDState),
    .class_init    = usb_led_class_init,
};

static void usb_led_register_types(void)
{
    type_register_static(&usb_led_info);
}

type_init(usb_led_register_types)
