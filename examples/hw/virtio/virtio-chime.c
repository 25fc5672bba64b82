/*
 * Virtio chime (lifecheck example)
 *
 * Shows: the same bug as virtio-clock.c, in a virtio device whose only proxy
 * sets hotpluggable = false: it holds only in principle (hidden by default).
 *
 * The device raises an event on its queue when the machine is asked to
 * power down, so a guest agent can shut down cleanly: realize puts a
 * powerdown notifier (qemu_register_powerdown_notifier) on QEMU's
 * system-wide list, with a pointer into the device.
 *
 * Bug: unrealize deletes the queue but leaves the notifier on the list.
 * Once the device is freed, the next system_powerdown calls
 * virtio_chime_powerdown() on freed memory (leak-on-unrealize, reported
 * where the notifier is registered).
 *
 * Its only transport, virtio-chime-pci (hw/virtio/virtio-lite-pci.c), sets
 * hotpluggable = false: the device is never unplugged, so the bug holds
 * only in principle; the default view hides it (--show-all shows it).
 *
 * Fix: notifier_remove(&s->powerdown) in virtio_chime_unrealize().
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

#define TYPE_VIRTIO_CHIME "virtio-chime-device"
OBJECT_DECLARE_SIMPLE_TYPE(VirtIOChime, VIRTIO_CHIME)

/* Example device: not a registered virtio device id. */
#define VIRTIO_ID_CHIME            0xfff3
#define VIRTIO_CHIME_QUEUE_SIZE    16

struct VirtIOChime {
    VirtIODevice parent_obj;

    VirtQueue *eventq;
    Notifier powerdown;
    uint32_t events;
};

static void virtio_chime_handle_event(VirtIODevice *vdev, VirtQueue *vq)
{
}

static void virtio_chime_powerdown(Notifier *n, void *opaque)
{
    VirtIOChime *s = container_of(n, VirtIOChime, powerdown);

    s->events++;
    virtio_notify(VIRTIO_DEVICE(s), s->eventq);
}

static uint64_t virtio_chime_get_features(VirtIODevice *vdev, uint64_t features, Error **errp)
{
    return features;
}

static void virtio_chime_realize(DeviceState *dev, Error **errp)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VirtIOChime *s = VIRTIO_CHIME(dev);

    virtio_init(vdev, VIRTIO_ID_CHIME, 0);
    s->eventq = virtio_add_queue(vdev, VIRTIO_CHIME_QUEUE_SIZE, virtio_chime_handle_event);
    s->powerdown.notify = virtio_chime_powerdown;
    qemu_register_powerdown_notifier(&s->powerdown); /* lifecheck: expect[leak-on-unrealize] */
}

static void virtio_chime_unrealize(DeviceState *dev)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VirtIOChime *s = VIRTIO_CHIME(dev);

    virtio_delete_queue(s->eventq);
    virtio_cleanup(vdev);
}

static void virtio_chime_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_CLASS(klass);

    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    vdc->realize = virtio_chime_realize;
    vdc->unrealize = virtio_chime_unrealize;
    vdc->get_features = virtio_chime_get_features;
}

static const TypeInfo virtio_chime_info = {
    .name          = TYPE_VIRTIO_CHIME,
    .parent        = TYPE_VIRTIO_DEVICE,
    .instance_size = sizeof(VirtIOChime),
    .class_init    = virtio_chime_class_init,
};

static void virtio_chime_register_types(void)
{
    type_register_static(&virtio_chime_info);
}

type_init(virtio_chime_register_types)
