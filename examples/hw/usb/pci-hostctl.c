/*
 * PCI host controller with an embedded core (lifecheck example)
 *
 * Shows: strong-link-to-parent (severity: error): a reference cycle
 * between a device and its own child.
 *
 * The controller's logic lives in a core device embedded in the PCI
 * function (object_initialize_child()), as hw/usb/hcd-xhci-pci.c embeds
 * xhci-core.  The core calls back into the PCI wrapper through its "host"
 * link (a DEFINE_PROP_LINK property), and its event ring reaches the
 * wrapper through "monitor", a link the core adds itself without
 * OBJ_PROP_LINK_STRONG.
 *
 * Bug: realize sets the core's "host" link to the wrapper.  qdev link
 * properties are strong: the core now holds a reference on its own
 * parent.  On unplug, object_unparent() drops the bus's reference, the
 * core's link keeps the wrapper's count at one, and the wrapper (and
 * with it the core) is never finalized: every unplug leaks the device.
 * The weak "monitor" link takes no reference and is fine.
 *
 * Fix: break the cycle in exit (unrealize): unrealize the core, then set
 * its "host" link to NULL (pci-hostctl-fixed.c; QEMU 10.0.13's
 * usb_xhci_pci_exit()).  Code in instance_finalize would never run.
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_HOSTCTL_CORE "hostctl-core"
OBJECT_DECLARE_SIMPLE_TYPE(HostctlCore, HOSTCTL_CORE)

#define TYPE_PCI_HOSTCTL "pci-hostctl"
OBJECT_DECLARE_SIMPLE_TYPE(PCIHostctlState, PCI_HOSTCTL)

struct HostctlCore {
    DeviceState parent_obj;

    DeviceState *host;          /* "host": DEFINE_PROP_LINK, strong */
    Object *monitor;            /* "monitor": a weak link */
    MemoryRegion regs;
    uint32_t status;
};

struct PCIHostctlState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    HostctlCore core;
};

static uint64_t hostctl_core_read(void *opaque, hwaddr addr, unsigned size)
{
    HostctlCore *c = opaque;

    return c->status;
}

static void hostctl_core_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    HostctlCore *c = opaque;

    c->status = val;
}

static const MemoryRegionOps hostctl_core_ops = {
    .read = hostctl_core_read,
    .write = hostctl_core_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

static void hostctl_core_init(Object *obj)
{
    HostctlCore *c = HOSTCTL_CORE(obj);

    object_property_add_link(obj, "monitor", TYPE_DEVICE, &c->monitor, object_property_allow_set_link, 0);
}

static void hostctl_core_realize(DeviceState *dev, Error **errp)
{
    HostctlCore *c = HOSTCTL_CORE(dev);

    memory_region_init_io(&c->regs, OBJECT(c), &hostctl_core_ops, c, "hostctl-core.regs", 4 * KiB);
}

static const Property hostctl_core_properties[] = {
    DEFINE_PROP_LINK("host", HostctlCore, host, TYPE_DEVICE, DeviceState *),
};

static void hostctl_core_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = hostctl_core_realize;
    dc->desc = "host controller core";
    dc->user_creatable = false;
    device_class_set_props(dc, hostctl_core_properties);
}

static void pci_hostctl_init(Object *obj)
{
    PCIHostctlState *s = PCI_HOSTCTL(obj);

    object_initialize_child(obj, "core", &s->core, TYPE_HOSTCTL_CORE);
}

static void pci_hostctl_realize(PCIDevice *pdev, Error **errp)
{
    PCIHostctlState *s = PCI_HOSTCTL(pdev);

    object_property_set_link(OBJECT(&s->core), "host", OBJECT(s), NULL); /* lifecheck: expect[strong-link-to-parent] */
    object_property_set_link(OBJECT(&s->core), "monitor", OBJECT(s), NULL); /* lifecheck: ok[strong-link-to-parent] */
    if (!qdev_realize(DEVICE(&s->core), NULL, errp)) {
        return;
    }
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->core.regs);
}

static void pci_hostctl_exit(PCIDevice *pdev)
{
    /* nothing to undo: the BAR is unmapped by the PCI core */
}

static void pci_hostctl_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_hostctl_realize;
    k->exit = pci_hostctl_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x1130;
    k->revision = 0x01;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "PCI host controller";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo pci_hostctl_types[] = {
    {
        .name          = TYPE_HOSTCTL_CORE,
        .parent        = TYPE_DEVICE,
        .instance_size = sizeof(HostctlCore),
        .instance_init = hostctl_core_init,
        .class_init    = hostctl_core_class_init,
    },
    {
        .name          = TYPE_PCI_HOSTCTL,
        .parent        = TYPE_PCI_DEVICE,
        .instance_size = sizeof(PCIHostctlState),
        .instance_init = pci_hostctl_init,
        .class_init    = pci_hostctl_class_init,
        .interfaces = (const InterfaceInfo[]) {
            { INTERFACE_CONVENTIONAL_PCI_DEVICE },
            { },
        },
    },
};

DEFINE_TYPES(pci_hostctl_types)
