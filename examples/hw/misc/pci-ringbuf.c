/*
 * PCI ring buffer device (lifecheck example)
 *
 * Shows: freed-in-unrealize, g_free() form (severity: error), and one
 * known gap of subregion-not-deleted.
 *
 * The ring state (head/tail and the two regions that expose it) is a
 * separate RingState allocated in realize; its regions are mapped into the
 * device's own BAR container, which needs no removal.
 *
 * Bug: exit frees s->ring, and with it the MemoryRegions embedded in it,
 * while an access that started before unplug may still be running in
 * them; QOM also still lists them as children of the device.  Freeing the
 * bounce buffer in exit: a warning (BARs unmapped first; accesses in flight).
 *
 * Fix: free s->ring and s->bounce in an instance_finalize function (regions
 * in dynamically allocated structures are freed there, docs/devel/memory.rst).
 *
 * Known gap: the guest can map a legacy doorbell port into the bus's I/O
 * space by writing the CTRL register, and exit never removes it.  That is
 * the same bug as subregion-not-deleted, but the mapping is made from an
 * MMIO handler, not from realize, and lifecheck only follows realize.
 * Fix: in exit, call ringbuf_set_legacy(s, false).
 *
 * Copyright (c) 2025 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_RINGBUF "pci-ringbuf"
OBJECT_DECLARE_SIMPLE_TYPE(PCIRingBufState, PCI_RINGBUF)

#define RINGBUF_DOORBELL_SIZE   (4 * KiB)
#define RINGBUF_LEGACY_PORT     0x530
#define RINGBUF_LEGACY_SIZE     4
#define RINGBUF_POLL_NS         (100 * 1000)

/* registers of the doorbell page */
#define RINGBUF_REG_HEAD        0x0
#define RINGBUF_REG_TAIL        0x4
#define RINGBUF_REG_CTRL        0x8
#define RINGBUF_CTRL_LEGACY     0x1

typedef struct RingState {
    MemoryRegion doorbell;      /* registers, inside the BAR */
    MemoryRegion data;          /* ring contents, inside the BAR */
    uint32_t head;
    uint32_t tail;
} RingState;

struct PCIRingBufState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    MemoryRegion bar;           /* BAR 0: container */
    MemoryRegion legacy;        /* legacy doorbell port, mapped on request */
    RingState *ring;
    uint8_t *bounce;
    QEMUTimer *poll_timer;
    uint32_t ring_size;
    bool legacy_mapped;
};

static void ringbuf_set_legacy(PCIRingBufState *s, bool on)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    if (on == s->legacy_mapped) {
        return;
    }
    if (on) {
        memory_region_add_subregion(pci_address_space_io(pdev), RINGBUF_LEGACY_PORT, &s->legacy); /* lifecheck: expect-missing[subregion-not-deleted] */
    } else {
        memory_region_del_subregion(pci_address_space_io(pdev), &s->legacy);
    }
    s->legacy_mapped = on;
}

static void ringbuf_poll(void *opaque)
{
    PCIRingBufState *s = opaque;

    if (s->ring->head != s->ring->tail) {
        pci_set_irq(PCI_DEVICE(s), 1);
    }
    timer_mod(s->poll_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + RINGBUF_POLL_NS);
}

static uint64_t ringbuf_doorbell_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIRingBufState *s = opaque;

    switch (addr) {
    case RINGBUF_REG_HEAD:
        return s->ring->head;
    case RINGBUF_REG_TAIL:
        return s->ring->tail;
    case RINGBUF_REG_CTRL:
        return s->legacy_mapped ? RINGBUF_CTRL_LEGACY : 0;
    default:
        return 0;
    }
}

static void ringbuf_doorbell_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PCIRingBufState *s = opaque;

    switch (addr) {
    case RINGBUF_REG_HEAD:
        s->ring->head = val % s->ring_size;
        break;
    case RINGBUF_REG_TAIL:
        s->ring->tail = val % s->ring_size;
        pci_set_irq(PCI_DEVICE(s), 0);
        break;
    case RINGBUF_REG_CTRL:
        ringbuf_set_legacy(s, val & RINGBUF_CTRL_LEGACY);
        break;
    }
}

static const MemoryRegionOps ringbuf_doorbell_ops = {
    .read = ringbuf_doorbell_read,
    .write = ringbuf_doorbell_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};

static uint64_t ringbuf_data_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIRingBufState *s = opaque;

    return s->bounce[addr];
}

static void ringbuf_data_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PCIRingBufState *s = opaque;

    s->bounce[addr] = val;
}

static const MemoryRegionOps ringbuf_data_ops = {
    .read = ringbuf_data_read,
    .write = ringbuf_data_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .impl = {
        .min_access_size = 1,
        .max_access_size = 1,
    },
};

static void pci_ringbuf_realize(PCIDevice *pdev, Error **errp)
{
    PCIRingBufState *s = PCI_RINGBUF(pdev);

    if (s->ring_size < 4 * KiB || (s->ring_size & (s->ring_size - 1))) {
        error_setg(errp, "ring-size must be a power of two, at least 4 KiB");
        return;
    }

    pci_config_set_interrupt_pin(pdev->config, 1);
    memory_region_init(&s->bar, OBJECT(s), "pci-ringbuf.bar", 2 * s->ring_size);

    s->ring = g_new0(RingState, 1);
    memory_region_init_io(&s->ring->doorbell, OBJECT(s), &ringbuf_doorbell_ops, s, "pci-ringbuf.doorbell", RINGBUF_DOORBELL_SIZE);
    memory_region_add_subregion(&s->bar, 0, &s->ring->doorbell); /* lifecheck: ok[subregion-not-deleted] */
    memory_region_init_io(&s->ring->data, OBJECT(s), &ringbuf_data_ops, s, "pci-ringbuf.data", s->ring_size);
    memory_region_add_subregion(&s->bar, s->ring_size, &s->ring->data); /* lifecheck: ok[subregion-not-deleted] */
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->bar); /* lifecheck: ok[subregion-not-deleted] */

    memory_region_init_io(&s->legacy, OBJECT(s), &ringbuf_doorbell_ops, s, "pci-ringbuf.legacy", RINGBUF_LEGACY_SIZE);

    s->bounce = g_malloc0(s->ring_size);
    s->poll_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, ringbuf_poll, s);
    timer_mod(s->poll_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + RINGBUF_POLL_NS);
}

static void pci_ringbuf_exit(PCIDevice *pdev)
{
    PCIRingBufState *s = PCI_RINGBUF(pdev);

    timer_free(s->poll_timer);
    g_free(s->bounce); /* lifecheck: expect[freed-in-unrealize] */
    g_free(s->ring); /* lifecheck: expect[freed-in-unrealize] */
}

static const Property pci_ringbuf_properties[] = {
    DEFINE_PROP_UINT32("ring-size", PCIRingBufState, ring_size, 64 * KiB),
};

static void pci_ringbuf_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_ringbuf_realize;
    k->exit = pci_ringbuf_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x1114;
    k->revision = 0x01;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "PCI ring buffer";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    device_class_set_props(dc, pci_ringbuf_properties);
}

static const TypeInfo pci_ringbuf_info = {
    .name          = TYPE_PCI_RINGBUF,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIRingBufState),
    .class_init    = pci_ringbuf_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_ringbuf_register_types(void)
{
    type_register_static(&pci_ringbuf_info);
}

type_init(pci_ringbuf_register_types)
