/*
 * PCI host controller with an embedded core, fixed (lifecheck example)
 *
 * Shows: no findings.  The pci-hostctl.c example with its reference
 * cycle broken where it can be: exit (unrealize) unrealizes the core --
 * qdev refuses to change a link of a realized device
 * (qdev_prop_allow_set_link_before_realize()) -- and then sets its
 * strong "host" link back to NULL, which drops the core's reference on
 * the wrapper.  Unplug then finalizes both, as in QEMU 10.0.13's
 * usb_xhci_pci_exit().
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

#define TYPE_HOSTCTL_FIXED_CORE "hostctl-fixed-core"
OBJECT_DECLARE_SIMPLE_TYPE(HostctlFixedCore, HOSTCTL_FIXED_CORE)

#define TYPE_PCI_HOSTCTL_FIXED "pci-hostctl-fixed"
OBJECT_DECLARE_SIMPLE_TYPE(PCIHostctlFixedState, PCI_HOSTCTL_FIXED)

struct HostctlFixedCore {
    DeviceState parent_obj;

    DeviceState *host;          /* "host": DEFINE_PROP_LINK, strong */
    Object *monitor;            /* "monitor": a weak link */
    MemoryRegion regs;
    uint32_t status;
};

struct PCIHostctlFixedState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    HostctlFixedCore core;
};

static uint64_t hostctl_fixed_core_read(void *opaque, hwaddr addr, unsigned size)
{
    HostctlFixedCore *c = opaque;

    return c->status;
}

static void hostctl_fixed_core_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    HostctlFixedCore *c = opaque;

    c->status = val;
}

static const MemoryRegionOps hostctl_fixed_core_ops = {
    .read = hostctl_fixed_core_read,
    .write = hostctl_fixed_core_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

static void hostctl_fixed_core_init(Object *obj)
{
    HostctlFixedCore *c = HOSTCTL_FIXED_CORE(obj);

    object_property_add_link(obj, "monitor", TYPE_DEVICE, &c->monitor, object_property_allow_set_link, 0);
}

static void hostctl_fixed_core_realize(DeviceState *dev, Error **errp)
{
    HostctlFixedCore *c = HOSTCTL_FIXED_CORE(dev);

    memory_region_init_io(&c->regs, OBJECT(c), &hostctl_fixed_core_ops, c, "hostctl-fixed-core.regs", 4 * KiB);
}

static const Property hostctl_fixed_core_properties[] = {
    DEFINE_PROP_LINK("host", HostctlFixedCore, host, TYPE_DEVICE, DeviceState *),
};

static void hostctl_fixed_core_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = hostctl_fixed_core_realize;
    dc->desc = "host controller core (fixed)";
    dc->user_creatable = false;
    device_class_set_props(dc, hostctl_fixed_core_properties);
}

static void pci_hostctl_fixed_init(Object *obj)
{
    PCIHostctlFixedState *s = PCI_HOSTCTL_FIXED(obj);

    object_initialize_child(obj, "core", &s->core, TYPE_HOSTCTL_FIXED_CORE);
}

static void pci_hostctl_fixed_realize(PCIDevice *pdev, Error **errp)
{
    PCIHostctlFixedState *s = PCI_HOSTCTL_FIXED(pdev);

    object_property_set_link(OBJECT(&s->core), "host", OBJECT(s), NULL); /* lifecheck: ok[strong-link-to-parent] */
    object_property_set_link(OBJECT(&s->core), "monitor", OBJECT(s), NULL); /* lifecheck: ok[strong-link-to-parent] */
    if (!qdev_realize(DEVICE(&s->core), NULL, errp)) {
        return;
    }
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->core.regs);
}

static void pci_hostctl_fixed_exit(PCIDevice *pdev)
{
    PCIHostctlFixedState *s = PCI_HOSTCTL_FIXED(pdev);

    /* the core holds a strong reference on us: drop it, or we are never finalized */
    qdev_unrealize(DEVICE(&s->core));
    object_property_set_link(OBJECT(&s->core), "host", NULL, &error_abort);
}

static void pci_hostctl_fixed_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_hostctl_fixed_realize;
    k->exit = pci_hostctl_fixed_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x1131;
    k->revision = 0x01;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "PCI host controller (fixed)";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo pci_hostctl_fixed_types[] = {
    {
        .name          = TYPE_HOSTCTL_FIXED_CORE,
        .parent        = TYPE_DEVICE,
        .instance_size = sizeof(HostctlFixedCore),
        .instance_init = hostctl_fixed_core_init,
        .class_init    = hostctl_fixed_core_class_init,
    },
    {
        .name          = TYPE_PCI_HOSTCTL_FIXED,
        .parent        = TYPE_PCI_DEVICE,
        .instance_size = sizeof(PCIHostctlFixedState),
        .instance_init = pci_hostctl_fixed_init,
        .class_init    = pci_hostctl_fixed_class_init,
        .interfaces = (const InterfaceInfo[]) {
            { INTERFACE_CONVENTIONAL_PCI_DEVICE },
            { },
        },
    },
};

DEFINE_TYPES(pci_hostctl_fixed_types)
