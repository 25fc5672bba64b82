/*
 * PCI queue controller whose built-in namespace has a pool (lifecheck
 * example)
 *
 * Shows: leak-on-unrealize in a helper shared with a separately created
 * device, where the controller itself sets the field that guards it.
 *
 * The bad twin of pci-qctrl.c: the same controller, but its realize
 * puts its own namespace in a pool (s->ns.group = &s->group) before
 * calling qns_pool_setup(), so the helper allocates the handles for it too,
 * and the controller's exit never frees them: every hot-unplug leaks
 * them.  Fix: g_free(s->ns.handles) in pci_qctrl_pool_exit().
 *
 * What follows is pci-qctrl.c's description of the shared parts:
 *
 * The controller embeds a QPoolNamespace for its default namespace.  Extra
 * namespaces are separate "pci-qns-pool" devices.  qns_pool_setup() serves both,
 * and allocates the placement handles only when the namespace belongs to
 * a pool:
 *
 *     if (ns->group) { ns->handles = g_new(...); ... }
 *
 * Only pci-qns's realize sets ns->group, on its own object (ns =
 * PCI_QNS_POOL(dev)); the controller's embedded namespace never has a pool,
 * so for the controller the branch is never taken and its exit need not
 * free handles.  pci-qns frees them in its unrealize.
 *
 * Correct, and not reported.  (Here the controller sets its own
 * namespace's pool, so the handles it gets are reported.)
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

typedef struct QGroup {
    uint32_t nhandles;
} QGroup;

typedef struct QPoolNamespace {
    DeviceState parent_obj;

    QGroup *group;
    uint16_t *handles;
    uint32_t nhandles;
} QPoolNamespace;

#define TYPE_PCI_QNS_POOL "pci-qns-pool"
#define PCI_QNS_POOL(obj) OBJECT_CHECK(QPoolNamespace, (obj), TYPE_PCI_QNS_POOL)

#define TYPE_PCI_QCTRL_POOL "pci-qctrl-pool"
OBJECT_DECLARE_SIMPLE_TYPE(PCIQCtrlPoolState, PCI_QCTRL_POOL)

struct PCIQCtrlPoolState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    QPoolNamespace ns;
    QGroup group;
};

static QGroup qns_shared_group = { .nhandles = 4 };

static bool qns_pool_setup(QPoolNamespace *ns, Error **errp)
{
    if (ns->group) {
        if (ns->group->nhandles > 64) {
            error_setg(errp, "pci-qns: too many placement handles");
            return false;
        }
        ns->nhandles = ns->group->nhandles;
        ns->handles = g_new0(uint16_t, ns->nhandles);    /* lifecheck: expect[leak-on-unrealize] */
    }
    return true;
}

static void pci_qns_pool_realize(DeviceState *dev, Error **errp)
{
    QPoolNamespace *ns = PCI_QNS_POOL(dev);

    ns->group = &qns_shared_group;
    qns_pool_setup(ns, errp);
}

static void pci_qns_pool_unrealize(DeviceState *dev)
{
    QPoolNamespace *ns = PCI_QNS_POOL(dev);

    g_free(ns->handles);
}

static void pci_qns_pool_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = pci_qns_pool_realize;
    dc->unrealize = pci_qns_pool_unrealize;
}

static const TypeInfo pci_qns_pool_info = {
    .name          = TYPE_PCI_QNS_POOL,
    .parent        = TYPE_DEVICE,
    .instance_size = sizeof(QPoolNamespace),
    .class_init    = pci_qns_pool_class_init,
};

static void pci_qctrl_pool_realize(PCIDevice *pdev, Error **errp)
{
    PCIQCtrlPoolState *s = PCI_QCTRL_POOL(pdev);

    s->group.nhandles = 8;
    s->ns.group = &s->group;
    if (!qns_pool_setup(&s->ns, errp)) {
        return;
    }
}

static void pci_qctrl_pool_exit(PCIDevice *pdev)
{
}

static void pci_qctrl_pool_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_qctrl_pool_realize;
    k->exit = pci_qctrl_pool_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10fa;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
}

static const TypeInfo pci_qctrl_pool_info = {
    .name          = TYPE_PCI_QCTRL_POOL,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIQCtrlPoolState),
    .class_init    = pci_qctrl_pool_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_qctrl_pool_register_types(void)
{
    type_register_static(&pci_qns_pool_info);
    type_register_static(&pci_qctrl_pool_info);
}

type_init(pci_qctrl_pool_register_types)
