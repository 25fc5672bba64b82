/*
 * PCI tagger with board defaults (lifecheck example)
 *
 * Shows: a branch under a test of a field that nothing sets for the
 * device, next to a global struct of the same field name that the board
 * code fills -- no finding; and the same branch where board code does set
 * the field through a pointer to the device -- leak-on-unrealize.
 *
 * Realize copies s->label and s->tag into names when they are set.  The
 * device has no property for either.
 *
 * Correct, and not reported: s->label is never set, so its branch never
 * runs.  tagger_set_defaults() writes a "label" too, but of a global
 * struct value (tagger_defaults.label), which cannot be any device's
 * memory (QOM allocates devices).
 *
 * Bug: the board keeps a pointer to its tagger and sets s->tag through it
 * (tagger_board_tag()), so the branch runs, and exit never frees
 * s->tag_name: every hot-unplug leaks it (leak-on-unrealize).  Fix:
 * g_free(s->tag_name) in exit.
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_TAGGER "pci-tagger"
OBJECT_DECLARE_SIMPLE_TYPE(PCITaggerState, PCI_TAGGER)

struct PCITaggerState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    char *label;
    char *name;
    char *tag;
    char *tag_name;
};

static struct {
    char *label;
} tagger_defaults;

static PCITaggerState *tagger_board;

void tagger_set_defaults(const char *label)
{
    tagger_defaults.label = g_strdup(label);
}

void tagger_board_tag(const char *tag)
{
    tagger_board->tag = g_strdup(tag);
}

static void pci_tagger_realize(PCIDevice *pdev, Error **errp)
{
    PCITaggerState *s = PCI_TAGGER(pdev);

    if (s->label) {
        s->name = g_strdup(s->label);              /* lifecheck: ok[leak-on-unrealize] */
    }
    if (s->tag) {
        s->tag_name = g_strdup(s->tag);            /* lifecheck: expect[leak-on-unrealize] */
    }
}

static void pci_tagger_exit(PCIDevice *pdev)
{
}

static void pci_tagger_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_tagger_realize;
    k->exit = pci_tagger_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10fd;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
}

static const TypeInfo pci_tagger_info = {
    .name          = TYPE_PCI_TAGGER,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCITaggerState),
    .class_init    = pci_tagger_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_tagger_register_types(void)
{
    type_register_static(&pci_tagger_info);
}

type_init(pci_tagger_register_types)
