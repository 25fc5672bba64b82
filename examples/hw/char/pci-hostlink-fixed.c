/*
 * PCI host link, fixed (lifecheck example)
 *
 * Shows: no findings.  The same device as pci-hostlink.c with exit
 * removing the server chardev's handlers first (QEMU's fix for ivshmem's
 * server handlers, 10.0.13): nothing calls into the device between
 * unrealize and finalize.
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "chardev/char-fe.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_HOSTLINK "pci-hostlink-fixed"
OBJECT_DECLARE_SIMPLE_TYPE(PCIHostLinkState, PCI_HOSTLINK)

struct PCIHostLinkState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    CharFrontend server;
    CharFrontend log;
    uint32_t doorbell;
    bool log_open;
};

static int pci_hostlink_can_read(void *opaque)
{
    return sizeof(uint32_t);
}

static void pci_hostlink_read(void *opaque, const uint8_t *buf, int size)
{
    PCIHostLinkState *s = opaque;

    s->doorbell = buf[0];
    pci_set_irq(PCI_DEVICE(s), 1);
}

static void pci_hostlink_log_event(void *opaque, QEMUChrEvent event)
{
    PCIHostLinkState *s = opaque;

    s->log_open = event == CHR_EVENT_OPENED;
}

static void pci_hostlink_realize(PCIDevice *pdev, Error **errp)
{
    PCIHostLinkState *s = PCI_HOSTLINK(pdev);

    if (!qemu_chr_fe_backend_connected(&s->server)) {
        error_setg(errp, "pci-hostlink: 'server' chardev is required");
        return;
    }
    pci_config_set_interrupt_pin(pdev->config, 1);
    qemu_chr_fe_set_handlers(&s->server, pci_hostlink_can_read, pci_hostlink_read, NULL, NULL, s, NULL, true);
    qemu_chr_fe_set_handlers(&s->log, NULL, NULL, pci_hostlink_log_event, NULL, s, NULL, true);
}

static void pci_hostlink_exit(PCIDevice *pdev)
{
    PCIHostLinkState *s = PCI_HOSTLINK(pdev);

    qemu_chr_fe_set_handlers(&s->server, NULL, NULL, NULL, NULL, NULL, NULL, false);
    qemu_chr_fe_set_handlers(&s->log, NULL, NULL, NULL, NULL, NULL, NULL, false);
}

static const Property pci_hostlink_properties[] = {
    DEFINE_PROP_CHR("server", PCIHostLinkState, server),
    DEFINE_PROP_CHR("log", PCIHostLinkState, log),
};

static void pci_hostlink_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_hostlink_realize;
    k->exit = pci_hostlink_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10fb;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
    dc->desc = "PCI host link";
    device_class_set_props(dc, pci_hostlink_properties);
}

static const TypeInfo pci_hostlink_info = {
    .name          = TYPE_PCI_HOSTLINK,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIHostLinkState),
    .class_init    = pci_hostlink_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_hostlink_register_types(void)
{
    type_register_static(&pci_hostlink_info);
}

type_init(pci_hostlink_register_types)
