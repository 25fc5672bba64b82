/*
 * Virtio message box with a host notification page (lifecheck example)
 *
 * Shows: a virtio device with no findings.
 *
 * The transport passes one of its BARs in the "notify-bar" link
 * property; realize maps the device's notification page into it, through
 * a helper.  That BAR belongs to the transport, not to this device, so
 * unrealize removes the page again: the correct pairing.  realize reaches
 * the device state with container_of() and unrealize with the QOM cast:
 * the same object.  The region's name is built in a g_autofree string,
 * released when it goes out of scope.
 *
 * Copyright (c) 2025 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/virtio/virtio.h"
#include "hw/qdev-properties.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_VIRTIO_MSGBOX "virtio-msgbox"
OBJECT_DECLARE_SIMPLE_TYPE(VirtIOMsgBox, VIRTIO_MSGBOX)

/* Example device: not a registered virtio device id. */
#define VIRTIO_ID_MSGBOX            0xfff0

#define VIRTIO_MSGBOX_NOTIFY_SIZE   0x1000
#define VIRTIO_MSGBOX_QUEUE_SIZE    64

struct VirtIOMsgBox {
    VirtIODevice parent_obj;

    VirtQueue *txq;
    VirtQueue *rxq;
    MemoryRegion notify;        /* notification page, in notify_bar */
    MemoryRegion *notify_bar;   /* link property: the transport's BAR */

    uint64_t notify_offset;
    uint32_t kicks;
};

static void virtio_msgbox_handle_tx(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtIOMsgBox *s = VIRTIO_MSGBOX(vdev);

    virtio_notify(vdev, s->rxq);
}

static void virtio_msgbox_handle_rx(VirtIODevice *vdev, VirtQueue *vq)
{
}

static uint64_t virtio_msgbox_notify_read(void *opaque, hwaddr addr, unsigned size)
{
    VirtIOMsgBox *s = opaque;

    return s->kicks;
}

static void virtio_msgbox_notify_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    VirtIOMsgBox *s = opaque;

    s->kicks++;
    virtio_msgbox_handle_tx(VIRTIO_DEVICE(s), s->txq);
}

static const MemoryRegionOps virtio_msgbox_notify_ops = {
    .read = virtio_msgbox_notify_read,
    .write = virtio_msgbox_notify_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 2,
        .max_access_size = 4,
    },
};

static uint64_t virtio_msgbox_get_features(VirtIODevice *vdev, uint64_t features, Error **errp)
{
    return features;
}

static void virtio_msgbox_map_notify(VirtIOMsgBox *s)
{
    memory_region_add_subregion_overlap(s->notify_bar, s->notify_offset, &s->notify, 1); /* lifecheck: ok[subregion-not-deleted] */
}

static void virtio_msgbox_realize(DeviceState *dev, Error **errp)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VirtIOMsgBox *s = container_of(vdev, VirtIOMsgBox, parent_obj);
    g_autofree char *name = NULL;

    if (!s->notify_bar) {
        error_setg(errp, "virtio-msgbox: 'notify-bar' link not set");
        return;
    }

    name = g_strdup_printf("%s.notify", object_get_typename(OBJECT(dev)));
    memory_region_init_io(&s->notify, OBJECT(s), &virtio_msgbox_notify_ops, s, name, VIRTIO_MSGBOX_NOTIFY_SIZE);

    virtio_init(vdev, VIRTIO_ID_MSGBOX, 0);
    s->txq = virtio_add_queue(vdev, VIRTIO_MSGBOX_QUEUE_SIZE, virtio_msgbox_handle_tx);
    s->rxq = virtio_add_queue(vdev, VIRTIO_MSGBOX_QUEUE_SIZE, virtio_msgbox_handle_rx);
    virtio_msgbox_map_notify(s);
}

static void virtio_msgbox_unrealize(DeviceState *dev)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VirtIOMsgBox *s = VIRTIO_MSGBOX(dev);

    memory_region_del_subregion(s->notify_bar, &s->notify);
    virtio_delete_queue(s->rxq);
    virtio_delete_queue(s->txq);
    virtio_cleanup(vdev);
}

static const Property virtio_msgbox_properties[] = {
    DEFINE_PROP_LINK("notify-bar", VirtIOMsgBox, notify_bar, TYPE_MEMORY_REGION, MemoryRegion *),
    DEFINE_PROP_UINT64("notify-offset", VirtIOMsgBox, notify_offset, 0x3000),
};

static void virtio_msgbox_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_CLASS(klass);

    device_class_set_props(dc, virtio_msgbox_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    vdc->realize = virtio_msgbox_realize;
    vdc->unrealize = virtio_msgbox_unrealize;
    vdc->get_features = virtio_msgbox_get_features;
}

static const TypeInfo virtio_msgbox_types[] = {
    {
        .name          = TYPE_VIRTIO_MSGBOX,
        .parent        = TYPE_VIRTIO_DEVICE,
        .instance_size = sizeof(VirtIOMsgBox),
        .class_init    = virtio_msgbox_class_init,
    },
};

DEFINE_TYPES(virtio_msgbox_types)
