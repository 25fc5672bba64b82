/*
 * PCI relay with helper agents (lifecheck example)
 *
 * Shows: realize-error-leak of a QOM object held in a local, and the
 * NULL test of that local on the error exit that releases it.
 *
 * Realize makes two agent objects with object_new() and binds each to a
 * port; binding can fail.
 *
 * Bug: relay_attach_spare() returns on bind failure without dropping
 * the creation reference of its agent (realize-error-leak).  Fix:
 * object_unref(spare) before returning.
 *
 * Correct, and not reported: relay_attach_agent() releases its agent on
 * its error exit under ``if (agent)``, the usual shape of a shared error
 * label; the test is false only where object_new() made nothing, so it
 * releases everything there was to release.  Once bound, each agent
 * becomes a QOM child of the relay and the creation reference is dropped.
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_RELAY "pci-relay"
OBJECT_DECLARE_SIMPLE_TYPE(PCIRelayState, PCI_RELAY)

#define TYPE_RELAY_AGENT "relay-agent"

struct PCIRelayState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    uint32_t port;
};

bool relay_agent_bind(Object *agent, uint32_t port, Error **errp);

static bool relay_attach_agent(PCIRelayState *s, Error **errp)
{
    Object *agent;

    agent = object_new(TYPE_RELAY_AGENT);          /* lifecheck: ok[realize-error-leak] */
    if (!relay_agent_bind(agent, s->port, errp)) {
        goto err;
    }
    object_property_add_child(OBJECT(s), "agent", agent);
    object_unref(agent);
    return true;

err:
    if (agent) {
        object_unref(agent);
    }
    return false;
}

static bool relay_attach_spare(PCIRelayState *s, Error **errp)
{
    Object *spare;

    spare = object_new(TYPE_RELAY_AGENT);          /* lifecheck: expect[realize-error-leak] */
    if (!relay_agent_bind(spare, s->port + 1, errp)) {
        return false;
    }
    object_property_add_child(OBJECT(s), "spare", spare);
    object_unref(spare);
    return true;
}

static void pci_relay_realize(PCIDevice *pdev, Error **errp)
{
    PCIRelayState *s = PCI_RELAY(pdev);

    if (!relay_attach_agent(s, errp)) {
        return;
    }
    if (!relay_attach_spare(s, errp)) {
        return;
    }
}

static const Property pci_relay_properties[] = {
    DEFINE_PROP_UINT32("port", PCIRelayState, port, 0),
};

static void pci_relay_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_relay_realize;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10fb;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
    device_class_set_props(dc, pci_relay_properties);
}

static const TypeInfo pci_relay_info = {
    .name          = TYPE_PCI_RELAY,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIRelayState),
    .class_init    = pci_relay_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_relay_register_types(void)
{
    type_register_static(&pci_relay_info);
}

type_init(pci_relay_register_types)
