/*
 * PCI info ROM, fixed (lifecheck example)
 *
 * Shows: no findings.  The same device as pci-inforom.c with exit freeing
 * the EDID record pci_inforom_find_cap() left in s->edid.
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_INFOROM "pci-inforom-fixed"
OBJECT_DECLARE_SIMPLE_TYPE(PCIInfoRomState, PCI_INFOROM)

#define INFOROM_NR_CAPS   8
#define INFOROM_CAP_EDID  0x10
#define INFOROM_CAP_SERIAL 0x11

typedef struct InfoRomCap {
    uint32_t type;
    uint32_t len;
    uint8_t data[64];
} InfoRomCap;

struct PCIInfoRomState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    InfoRomCap *edid;
    uint32_t nr_caps;
    uint32_t serial;
};

static int pci_inforom_read_cap(PCIInfoRomState *s, uint32_t index, InfoRomCap **rec)
{
    *rec = g_new0(InfoRomCap, 1);
    if (index >= s->nr_caps) {
        g_free(*rec);
        *rec = NULL;
        return -1;
    }
    (*rec)->type = INFOROM_CAP_EDID + index;
    (*rec)->len = sizeof((*rec)->data);
    return 0;
}

static int pci_inforom_find_cap(PCIInfoRomState *s, uint32_t type, InfoRomCap **rec)
{
    uint32_t i;

    for (i = 0; i < INFOROM_NR_CAPS; i++) {
        if (pci_inforom_read_cap(s, i, rec)) {
            continue;
        }
        if ((*rec)->type == type) {
            return 0;
        }
        g_free(*rec);
    }
    *rec = NULL;
    return -2;
}

static void pci_inforom_realize(PCIDevice *pdev, Error **errp)
{
    PCIInfoRomState *s = PCI_INFOROM(pdev);
    g_autofree InfoRomCap *scratch = NULL;

    if (pci_inforom_find_cap(s, INFOROM_CAP_SERIAL, &scratch) == 0) {
        s->serial = scratch->data[0];
    }
    if (pci_inforom_find_cap(s, INFOROM_CAP_EDID, &s->edid) < 0) {
        error_setg(errp, "pci-inforom: no EDID record");
        return;
    }
    pci_config_set_interrupt_pin(pdev->config, 1);
}

static void pci_inforom_exit(PCIDevice *pdev)
{
    PCIInfoRomState *s = PCI_INFOROM(pdev);

    g_free(s->edid);
    s->edid = NULL;
    s->serial = 0;
}

static void pci_inforom_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_inforom_realize;
    k->exit = pci_inforom_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10fc;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
    dc->desc = "PCI info ROM";
}

static const TypeInfo pci_inforom_info = {
    .name          = TYPE_PCI_INFOROM,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIInfoRomState),
    .class_init    = pci_inforom_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_inforom_register_types(void)
{
    type_register_static(&pci_inforom_info);
}

type_init(pci_inforom_register_types)
