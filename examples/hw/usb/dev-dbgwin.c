/*
 * USB debug gadget with a firmware mailbox (lifecheck example)
 *
 * Shows: del-subregion-in-finalize, the subregion-not-deleted it implies,
 * and unparent-in-finalize, on a USB device (severity: error: USB
 * devices can be unplugged).
 *
 * Besides its USB endpoints, the gadget exposes a mailbox page in system
 * memory and a doorbell port in the system I/O space, so that firmware
 * can talk to the debugger before the USB stack is up.  The doorbell port
 * is removed in unrealize: correct.
 *
 * Bugs:
 *  - the mailbox page is only removed in instance_finalize: after unplug
 *    the guest can still reach it, and since the mapping holds a
 *    reference to the device, finalize never runs at all;
 *  - instance_finalize unparents the doorbell region.  QOM has already
 *    detached the device's children by then (QEMU 10.1 and later forbid
 *    this; this tree is 10.2.2).
 *
 * Fix: move the memory_region_del_subregion() of the mailbox into
 * usb_dbgwin_unrealize(), and delete the object_unparent() call.
 *
 * Copyright (c) 2025 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "hw/usb.h"
#include "hw/qdev-properties.h"
#include "system/address-spaces.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_USB_DBGWIN "usb-dbgwin"
OBJECT_DECLARE_SIMPLE_TYPE(USBDbgWinState, USB_DBGWIN)

#define USB_DBGWIN_MAILBOX_SIZE (4 * KiB)

struct USBDbgWinState {
    USBDevice dev;

    MemoryRegion mailbox;       /* in system memory */
    MemoryRegion doorbell;      /* in the system I/O space */

    uint64_t mailbox_addr;
    uint32_t doorbell_port;
    uint32_t rung;
    uint8_t buf[USB_DBGWIN_MAILBOX_SIZE];
};

static uint64_t usb_dbgwin_mailbox_read(void *opaque, hwaddr addr, unsigned size)
{
    USBDbgWinState *s = opaque;

    return s->buf[addr];
}

static void usb_dbgwin_mailbox_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    USBDbgWinState *s = opaque;

    s->buf[addr] = val;
}

static const MemoryRegionOps usb_dbgwin_mailbox_ops = {
    .read = usb_dbgwin_mailbox_read,
    .write = usb_dbgwin_mailbox_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .impl = {
        .min_access_size = 1,
        .max_access_size = 1,
    },
};

static uint64_t usb_dbgwin_doorbell_read(void *opaque, hwaddr addr, unsigned size)
{
    USBDbgWinState *s = opaque;

    return s->rung;
}

static void usb_dbgwin_doorbell_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    USBDbgWinState *s = opaque;

    s->rung++;
}

static const MemoryRegionOps usb_dbgwin_doorbell_ops = {
    .read = usb_dbgwin_doorbell_read,
    .write = usb_dbgwin_doorbell_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

static void usb_dbgwin_handle_reset(USBDevice *dev)
{
    USBDbgWinState *s = USB_DBGWIN(dev);

    s->rung = 0;
}

static void usb_dbgwin_handle_data(USBDevice *dev, USBPacket *p)
{
    USBDbgWinState *s = USB_DBGWIN(dev);

    if (p->pid == USB_TOKEN_IN && s->rung) {
        s->rung--;
        p->actual_length = 0;
        p->status = USB_RET_SUCCESS;
        return;
    }
    p->status = USB_RET_NAK;
}

static void usb_dbgwin_realize(USBDevice *dev, Error **errp)
{
    USBDbgWinState *s = USB_DBGWIN(dev);

    if (s->mailbox_addr & (USB_DBGWIN_MAILBOX_SIZE - 1)) {
        error_setg(errp, "mailbox-addr must be 4 KiB aligned");
        return;
    }

    memory_region_init_io(&s->mailbox, OBJECT(s), &usb_dbgwin_mailbox_ops, s, "usb-dbgwin.mailbox", USB_DBGWIN_MAILBOX_SIZE);
    memory_region_add_subregion(get_system_memory(), s->mailbox_addr, &s->mailbox); /* lifecheck: expect[subregion-not-deleted] */
    memory_region_init_io(&s->doorbell, OBJECT(s), &usb_dbgwin_doorbell_ops, s, "usb-dbgwin.doorbell", 1);
    memory_region_add_subregion(get_system_io(), s->doorbell_port, &s->doorbell); /* lifecheck: ok[subregion-not-deleted] */
}

static void usb_dbgwin_unrealize(USBDevice *dev)
{
    USBDbgWinState *s = USB_DBGWIN(dev);

    memory_region_del_subregion(get_system_io(), &s->doorbell); /* lifecheck: ok[del-subregion-in-finalize] */
}

static void usb_dbgwin_finalize(Object *obj)
{
    USBDbgWinState *s = USB_DBGWIN(obj);

    memory_region_del_subregion(get_system_memory(), &s->mailbox); /* lifecheck: expect[del-subregion-in-finalize] */
    object_unparent(OBJECT(&s->doorbell)); /* lifecheck: expect[unparent-in-finalize] */
}

static const Property usb_dbgwin_properties[] = {
    DEFINE_PROP_UINT64("mailbox-addr", USBDbgWinState, mailbox_addr, 0xfed00000),
    DEFINE_PROP_UINT32("doorbell-port", USBDbgWinState, doorbell_port, 0x4e8),
};

static void usb_dbgwin_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    USBDeviceClass *uc = USB_DEVICE_CLASS(klass);

    uc->realize = usb_dbgwin_realize;
    uc->unrealize = usb_dbgwin_unrealize;
    uc->product_desc = "QEMU USB debug window";
    uc->handle_reset = usb_dbgwin_handle_reset;
    uc->handle_data = usb_dbgwin_handle_data;
    dc->desc = "USB debug gadget with a firmware mailbox";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    device_class_set_props(dc, usb_dbgwin_properties);
}

static const TypeInfo usb_dbgwin_info = {
    .name              = TYPE_USB_DBGWIN,
    .parent            = TYPE_USB_DEVICE,
    .instance_size     = sizeof(USBDbgWinState),
    .instance_finalize = usb_dbgwin_finalize,
    .class_init        = usb_dbgwin_class_init,
};

static void usb_dbgwin_register_types(void)
{
    type_register_static(&usb_dbgwin_info);
}

type_init(usb_dbgwin_register_types)
