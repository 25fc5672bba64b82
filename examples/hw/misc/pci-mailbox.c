/*
 * PCI mailbox with a firmware-visible shared window (lifecheck example)
 *
 * Shows: freed-in-unrealize, object_unparent() form (severity: error).
 *
 * The shared message window is an I/O region inside a container that
 * realize maps into the bus's memory space; an alias of it is mapped into
 * system memory for firmware.  exit removes both mappings (correct) and
 * then unparents the regions.
 *
 * Bug: exit unparents s->shared, an I/O region.  Unparenting drops the
 * region while a DMA or another thread may still be using it (a reference
 * taken with memory_region_ref() goes to the owner, not to the region).
 * QEMU's docs/devel/memory.rst: never call object_unparent() on a region,
 * except on aliases and containers, which are never accessed directly.
 * The alias and the container unparented next to it are therefore fine,
 * and so is unparenting the child *device* s->fifo.
 *
 * Fix: delete the object_unparent(OBJECT(&s->shared)) line; the region is
 * destroyed with its owner when the device is finalized.
 *
 * Copyright (c) 2025 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "system/address-spaces.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_MAILBOX_FIFO "mailbox-fifo"
OBJECT_DECLARE_SIMPLE_TYPE(MailboxFifo, MAILBOX_FIFO)

#define TYPE_PCI_MAILBOX "pci-mailbox"
OBJECT_DECLARE_SIMPLE_TYPE(PCIMailboxState, PCI_MAILBOX)

#define MAILBOX_MMIO_SIZE       (4 * KiB)
#define MAILBOX_WINDOW_SIZE     (64 * KiB)
#define MAILBOX_SHARED_SIZE     (16 * KiB)
#define MAILBOX_FW_BASE         0xfed40000
#define MAILBOX_FIFO_DEPTH      32

struct MailboxFifo {
    DeviceState parent_obj;

    uint32_t data[MAILBOX_FIFO_DEPTH];
    unsigned head;
    unsigned count;
};

struct PCIMailboxState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    MailboxFifo fifo;           /* child device */
    MemoryRegion mmio;          /* BAR 0 registers */
    MemoryRegion window;        /* container, mapped into the bus's memory space */
    MemoryRegion shared;        /* I/O region inside window */
    MemoryRegion shared_alias;  /* alias of shared, in system memory */

    uint64_t window_base;
    uint8_t shared_buf[MAILBOX_SHARED_SIZE];
};

static uint64_t mailbox_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIMailboxState *s = opaque;
    uint32_t val;

    if (addr != 0 || s->fifo.count == 0) {
        return 0;
    }
    val = s->fifo.data[s->fifo.head];
    s->fifo.head = (s->fifo.head + 1) % MAILBOX_FIFO_DEPTH;
    s->fifo.count--;
    return val;
}

static void mailbox_mmio_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PCIMailboxState *s = opaque;
    unsigned tail;

    if (addr != 0 || s->fifo.count == MAILBOX_FIFO_DEPTH) {
        return;
    }
    tail = (s->fifo.head + s->fifo.count) % MAILBOX_FIFO_DEPTH;
    s->fifo.data[tail] = val;
    s->fifo.count++;
}

static const MemoryRegionOps mailbox_mmio_ops = {
    .read = mailbox_mmio_read,
    .write = mailbox_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};

static uint64_t mailbox_shared_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIMailboxState *s = opaque;

    return s->shared_buf[addr];
}

static void mailbox_shared_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PCIMailboxState *s = opaque;

    s->shared_buf[addr] = val;
}

static const MemoryRegionOps mailbox_shared_ops = {
    .read = mailbox_shared_read,
    .write = mailbox_shared_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .impl = {
        .min_access_size = 1,
        .max_access_size = 1,
    },
};

static void pci_mailbox_init(Object *obj)
{
    PCIMailboxState *s = PCI_MAILBOX(obj);

    object_initialize_child(obj, "fifo", &s->fifo, TYPE_MAILBOX_FIFO);
}

static void pci_mailbox_realize(PCIDevice *pdev, Error **errp)
{
    PCIMailboxState *s = PCI_MAILBOX(pdev);

    if (!qdev_realize(DEVICE(&s->fifo), NULL, errp)) {
        return;
    }

    memory_region_init_io(&s->mmio, OBJECT(s), &mailbox_mmio_ops, s, "pci-mailbox.mmio", MAILBOX_MMIO_SIZE);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio); /* lifecheck: ok[subregion-not-deleted] */

    memory_region_init(&s->window, OBJECT(s), "pci-mailbox.window", MAILBOX_WINDOW_SIZE);
    memory_region_init_io(&s->shared, OBJECT(s), &mailbox_shared_ops, s, "pci-mailbox.shared", MAILBOX_SHARED_SIZE);
    memory_region_add_subregion(&s->window, 0, &s->shared); /* lifecheck: ok[subregion-not-deleted] */
    memory_region_add_subregion(pci_address_space(pdev), s->window_base, &s->window); /* lifecheck: ok[subregion-not-deleted] */

    memory_region_init_alias(&s->shared_alias, OBJECT(s), "pci-mailbox.shared-alias", &s->shared, 0, MAILBOX_SHARED_SIZE);
    memory_region_add_subregion_overlap(get_system_memory(), MAILBOX_FW_BASE, &s->shared_alias, 2); /* lifecheck: ok[subregion-not-deleted] */
}

static void pci_mailbox_exit(PCIDevice *pdev)
{
    PCIMailboxState *s = PCI_MAILBOX(pdev);

    memory_region_del_subregion(get_system_memory(), &s->shared_alias);
    memory_region_del_subregion(pci_address_space(pdev), &s->window);

    object_unparent(OBJECT(&s->shared_alias)); /* lifecheck: ok[freed-in-unrealize] */
    object_unparent(OBJECT(&s->window)); /* lifecheck: ok[freed-in-unrealize] */
    object_unparent(OBJECT(&s->shared)); /* lifecheck: expect[freed-in-unrealize] */
    object_unparent(OBJECT(&s->fifo)); /* lifecheck: ok[freed-in-unrealize] */
}

static const Property pci_mailbox_properties[] = {
    DEFINE_PROP_UINT64("window-base", PCIMailboxState, window_base, 0xe0000000),
};

static void pci_mailbox_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_mailbox_realize;
    k->exit = pci_mailbox_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x1113;
    k->revision = 0x01;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "PCI mailbox with a shared window";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    device_class_set_props(dc, pci_mailbox_properties);
}

static void mailbox_fifo_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->desc = "PCI mailbox FIFO";
    dc->user_creatable = false;
}

static const TypeInfo pci_mailbox_types[] = {
    {
        .name          = TYPE_MAILBOX_FIFO,
        .parent        = TYPE_DEVICE,
        .instance_size = sizeof(MailboxFifo),
        .class_init    = mailbox_fifo_class_init,
    },
    {
        .name          = TYPE_PCI_MAILBOX,
        .parent        = TYPE_PCI_DEVICE,
        .instance_size = sizeof(PCIMailboxState),
        .instance_init = pci_mailbox_init,
        .class_init    = pci_mailbox_class_init,
        .interfaces = (const InterfaceInfo[]) {
            { INTERFACE_CONVENTIONAL_PCI_DEVICE },
            { },
        },
    },
};

DEFINE_TYPES(pci_mailbox_types)
