/*
 * Virtio clock (lifecheck example)
 *
 * Shows: leak-on-unrealize of a registration in a virtio device whose PCI
 * proxy can be hot-unplugged: a use after free after unplug (error).
 *
 * The device raises an event on its queue when the machine is asked to
 * power down, so a guest agent can shut down cleanly: realize puts a
 * powerdown notifier (qemu_register_powerdown_notifier) on QEMU's
 * system-wide list, with a pointer into the device.
 *
 * Bug: unrealize deletes the queue but leaves the notifier on the list.
 * Once the device is freed, the next system_powerdown calls
 * virtio_clock_powerdown() on freed memory (leak-on-unrealize, reported
 * where the notifier is registered).
 *
 * Its transport, virtio-clock-pci (hw/virtio/virtio-lite-pci.c), can be
 * hot-unplugged, and unplugging it unrealizes this device: the finding is
 * a use after free after unplug, an error shown by default.
 *
 * Fix: notifier_remove(&s->powerdown) in virtio_clock_unrealize().
 *
 * Copyright (c) 2025 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/virtio/virtio.h"
#include "system/runstate.h"
#include "qemu/notify.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_VIRTIO_CLOCK "virtio-clock-device"
OBJECT_DECLARE_SIMPLE_TYPE(VirtIOClock, VIRTIO_CLOCK)

/* Example device: not a registered virtio device id. */
#define VIRTIO_ID_CLOCK            0xfff2
#define VIRTIO_CLOCK_QUEUE_SIZE    16

struct VirtIOClock {
    VirtIODevice parent_obj;

    VirtQueue *eventq;
    Notifier powerdown;
    uint32_t events;
};

static void virtio_clock_handle_event(VirtIODevice *vdev, VirtQueue *vq)
{
}

static void virtio_clock_powerdown(Notifier *n, void *opaque)
{
    VirtIOClock *s = container_of(n, VirtIOClock, powerdown);

    s->events++;
    virtio_notify(VIRTIO_DEVICE(s), s->eventq);
}

static uint64_t virtio_clock_get_features(VirtIODevice *vdev, uint64_t features, Error **errp)
{
    return features;
}

static void virtio_clock_realize(DeviceState *dev, Error **errp)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VirtIOClock *s = VIRTIO_CLOCK(dev);

    virtio_init(vdev, VIRTIO_ID_CLOCK, 0);
    s->eventq = virtio_add_queue(vdev, VIRTIO_CLOCK_QUEUE_SIZE, virtio_clock_handle_event);
    s->powerdown.notify = virtio_clock_powerdown;
    qemu_register_powerdown_notifier(&s->powerdown); /* lifecheck: expect[leak-on-unrealize] */
}

static void virtio_clock_unrealize(DeviceState *dev)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VirtIOClock *s = VIRTIO_CLOCK(dev);

    virtio_delete_queue(s->eventq);
    virtio_cleanup(vdev);
}

static void virtio_clock_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_CLASS(klass);

    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    vdc->realize = virtio_clock_realize;
    vdc->unrealize = virtio_clock_unrealize;
    vdc->get_features = virtio_clock_get_features;
}

static const TypeInfo virtio_clock_info = {
    .name          = TYPE_VIRTIO_CLOCK,
    .parent        = TYPE_VIRTIO_DEVICE,
    .instance_size = sizeof(VirtIOClock),
    .class_init    = virtio_clock_class_init,
};

static void virtio_clock_register_types(void)
{
    type_register_static(&virtio_clock_info);
}

type_init(virtio_clock_register_types)
