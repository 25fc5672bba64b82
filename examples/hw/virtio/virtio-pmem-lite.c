/*
 * Virtio persistent memory, simplified (lifecheck example)
 *
 * Shows: subregion-not-deleted two helper calls below realize, and
 * freed-in-unrealize, object_unparent() form, on a virtio device
 * (severity: error: the device goes away when its transport is unplugged).
 *
 * realize creates the backing RAM and maps it into system memory through
 * virtio_pmem_lite_setup_backing() -> virtio_pmem_lite_map(); it also maps
 * an alias of the label area for firmware.  unrealize removes and
 * unparents the alias (both correct: an alias may be unparented at any
 * time), then unparents the backing RAM.
 *
 * Bugs:
 *  - the backing RAM is never removed from system memory: after unplug
 *    the guest still sees it, and the mapping keeps the device alive;
 *  - unrealize unparents the backing RAM, a region the guest may still
 *    be accessing (DMA via address_space_map() holds the owner, not the
 *    region).
 *
 * Fix: in virtio_pmem_lite_unrealize(), replace the object_unparent() of
 * the backing RAM with
 *     memory_region_del_subregion(get_system_memory(), &pmem->backing);
 *
 * Copyright (c) 2025 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "hw/virtio/virtio.h"
#include "hw/qdev-properties.h"
#include "system/address-spaces.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_VIRTIO_PMEM_LITE "virtio-pmem-lite"
OBJECT_DECLARE_SIMPLE_TYPE(VirtIOPMemLite, VIRTIO_PMEM_LITE)

#define VIRTIO_PMEM_LITE_LABEL_SIZE (128 * KiB)
#define VIRTIO_PMEM_LITE_QUEUE_SIZE 128

struct virtio_pmem_lite_config {
    uint64_t start;
    uint64_t size;
};

struct VirtIOPMemLite {
    VirtIODevice parent_obj;

    VirtQueue *rq;
    MemoryRegion backing;       /* RAM the guest uses as persistent memory */
    MemoryRegion label_alias;   /* label area, for firmware */

    uint64_t memaddr;
    uint64_t label_addr;
    uint64_t size;
};

static void virtio_pmem_lite_flush(VirtIODevice *vdev, VirtQueue *vq)
{
    /* a real device would fsync its backend here */
    virtio_notify(vdev, vq);
}

static void virtio_pmem_lite_get_config(VirtIODevice *vdev, uint8_t *config)
{
    VirtIOPMemLite *pmem = VIRTIO_PMEM_LITE(vdev);
    struct virtio_pmem_lite_config *pmemcfg = (struct virtio_pmem_lite_config *)config;

    pmemcfg->start = pmem->memaddr;
    pmemcfg->size = pmem->size;
}

static uint64_t virtio_pmem_lite_get_features(VirtIODevice *vdev, uint64_t features, Error **errp)
{
    return features;
}

static void virtio_pmem_lite_map(MemoryRegion *space, hwaddr addr, MemoryRegion *mr)
{
    memory_region_add_subregion(space, addr, mr); /* lifecheck: expect[subregion-not-deleted] */
}

static bool virtio_pmem_lite_setup_backing(VirtIOPMemLite *pmem, Error **errp)
{
    if (!memory_region_init_ram(&pmem->backing, OBJECT(pmem), "virtio-pmem-lite.backing", pmem->size, errp)) {
        return false;
    }
    virtio_pmem_lite_map(get_system_memory(), pmem->memaddr, &pmem->backing);
    return true;
}

static void virtio_pmem_lite_realize(DeviceState *dev, Error **errp)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VirtIOPMemLite *pmem = VIRTIO_PMEM_LITE(dev);

    if (pmem->size < VIRTIO_PMEM_LITE_LABEL_SIZE) {
        error_setg(errp, "virtio-pmem-lite: size must be at least 128 KiB");
        return;
    }
    if (!virtio_pmem_lite_setup_backing(pmem, errp)) {
        return;
    }

    memory_region_init_alias(&pmem->label_alias, OBJECT(pmem), "virtio-pmem-lite.label", &pmem->backing, 0, VIRTIO_PMEM_LITE_LABEL_SIZE);
    memory_region_add_subregion(get_system_memory(), pmem->label_addr, &pmem->label_alias); /* lifecheck: ok[subregion-not-deleted] */

    virtio_init(vdev, VIRTIO_ID_PMEM, sizeof(struct virtio_pmem_lite_config));
    pmem->rq = virtio_add_queue(vdev, VIRTIO_PMEM_LITE_QUEUE_SIZE, virtio_pmem_lite_flush);
}

static void virtio_pmem_lite_unrealize(DeviceState *dev)
{
    VirtIODevice *vdev = VIRTIO_DEVICE(dev);
    VirtIOPMemLite *pmem = container_of(vdev, VirtIOPMemLite, parent_obj);

    memory_region_del_subregion(get_system_memory(), &pmem->label_alias);
    object_unparent(OBJECT(&pmem->label_alias)); /* lifecheck: ok[freed-in-unrealize] */
    object_unparent(OBJECT(&pmem->backing)); /* lifecheck: expect[freed-in-unrealize] */

    virtio_delete_queue(pmem->rq);
    virtio_cleanup(vdev);
}

static const Property virtio_pmem_lite_properties[] = {
    DEFINE_PROP_UINT64("memaddr", VirtIOPMemLite, memaddr, 0x100000000ULL),
    DEFINE_PROP_UINT64("label-addr", VirtIOPMemLite, label_addr, 0xfe800000),
    DEFINE_PROP_SIZE("size", VirtIOPMemLite, size, 16 * MiB),
};

static void virtio_pmem_lite_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    VirtioDeviceClass *vdc = VIRTIO_DEVICE_CLASS(klass);

    device_class_set_props(dc, virtio_pmem_lite_properties);
    set_bit(DEVICE_CATEGORY_STORAGE, dc->categories);
    vdc->realize = virtio_pmem_lite_realize;
    vdc->unrealize = virtio_pmem_lite_unrealize;
    vdc->get_features = virtio_pmem_lite_get_features;
    vdc->get_config = virtio_pmem_lite_get_config;
}

static const TypeInfo virtio_pmem_lite_info = {
    .name          = TYPE_VIRTIO_PMEM_LITE,
    .parent        = TYPE_VIRTIO_DEVICE,
    .instance_size = sizeof(VirtIOPMemLite),
    .class_init    = virtio_pmem_lite_class_init,
};

static void virtio_pmem_lite_register_types(void)
{
    type_register_static(&virtio_pmem_lite_info);
}

type_init(virtio_pmem_lite_register_types)
