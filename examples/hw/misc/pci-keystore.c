/*
 * PCI key store (lifecheck example)
 *
 * Shows: leak-on-unrealize of the entries of a list (QLIST).
 *
 * The device answers key lookups from the guest: realize fills a list
 * with one g_new0() entry per key (pci_keystore_add_key()), the MMIO
 * handler walks it.
 *
 * Bug: the device has no exit hook: the entries are never freed, every
 * unplug leaks the list.
 *
 * Fix: free every entry in a new exit hook, the way QEMU frees lists
 * (QLIST_FOREACH_SAFE, QLIST_REMOVE, g_free): hw/misc/pci-keystore-fixed.c.
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "system/memory.h"
#include "qemu/queue.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_KEYSTORE "pci-keystore"
OBJECT_DECLARE_SIMPLE_TYPE(PCIKeystoreState, PCI_KEYSTORE)

struct KeystoreEntry {
    uint32_t key;
    uint32_t value;
    QLIST_ENTRY(KeystoreEntry) node;
};

struct PCIKeystoreState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    MemoryRegion mmio;
    QLIST_HEAD(, KeystoreEntry) keys;
    uint32_t selected;
};

static void pci_keystore_add_key(PCIKeystoreState *s, uint32_t key, uint32_t value)
{
    struct KeystoreEntry *e;

    e = g_new0(struct KeystoreEntry, 1); /* lifecheck: expect[leak-on-unrealize] */
    e->key = key;
    e->value = value;
    QLIST_INSERT_HEAD(&s->keys, e, node);
}

static uint64_t pci_keystore_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIKeystoreState *s = opaque;
    struct KeystoreEntry *e;

    QLIST_FOREACH(e, &s->keys, node) {
        if (e->key == s->selected) {
            return e->value;
        }
    }
    return 0;
}

static void pci_keystore_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PCIKeystoreState *s = opaque;

    s->selected = val;
}

static const MemoryRegionOps pci_keystore_ops = {
    .read = pci_keystore_read,
    .write = pci_keystore_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

static void pci_keystore_realize(PCIDevice *pdev, Error **errp)
{
    PCIKeystoreState *s = PCI_KEYSTORE(pdev);

    memory_region_init_io(&s->mmio, OBJECT(s), &pci_keystore_ops, s, "pci-keystore", 0x100);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);

    QLIST_INIT(&s->keys);
    pci_keystore_add_key(s, 0x1, 0x1234);
    pci_keystore_add_key(s, 0x2, 0x5678);
}

static void pci_keystore_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_keystore_realize;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10fa;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
}

static const TypeInfo pci_keystore_info = {
    .name          = TYPE_PCI_KEYSTORE,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIKeystoreState),
    .class_init    = pci_keystore_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_keystore_register_types(void)
{
    type_register_static(&pci_keystore_info);
}

type_init(pci_keystore_register_types)
