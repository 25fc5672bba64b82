/*
 * PCI queue controller with a built-in namespace (lifecheck example)
 *
 * Shows: a helper guarded by a field that only a separately created
 * device sets -- no finding (correlated conditions across devices).
 *
 * The controller embeds a QNamespace for its default namespace.  Extra
 * namespaces are separate "pci-qns" devices.  qns_setup() serves both,
 * and allocates the placement handles only when the namespace belongs to
 * a pool:
 *
 *     if (ns->pool) { ns->handles = g_new(...); ... }
 *
 * Only pci-qns's realize sets ns->pool, on its own object (ns =
 * PCI_QNS(dev)); the controller's embedded namespace never has a pool,
 * so for the controller the branch is never taken and its exit need not
 * free handles.  pci-qns frees them in its unrealize.
 *
 * Correct, and not reported.  (The same controller that sets its own
 * namespace's pool, and so must free the handles, is pci-qctrl-pool.c.)
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

typedef struct QPool {
    uint32_t nhandles;
} QPool;

typedef struct QNamespace {
    DeviceState parent_obj;

    QPool *pool;
    uint16_t *handles;
    uint32_t nhandles;
} QNamespace;

#define TYPE_PCI_QNS "pci-qns"
#define PCI_QNS(obj) OBJECT_CHECK(QNamespace, (obj), TYPE_PCI_QNS)

#define TYPE_PCI_QCTRL "pci-qctrl"
OBJECT_DECLARE_SIMPLE_TYPE(PCIQCtrlState, PCI_QCTRL)

struct PCIQCtrlState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    QNamespace ns;
    QPool pool;
};

static QPool qns_shared_pool = { .nhandles = 4 };

static bool qns_setup(QNamespace *ns, Error **errp)
{
    if (ns->pool) {
        if (ns->pool->nhandles > 64) {
            error_setg(errp, "pci-qns: too many placement handles");
            return false;
        }
        ns->nhandles = ns->pool->nhandles;
        ns->handles = g_new0(uint16_t, ns->nhandles);    /* lifecheck: ok[leak-on-unrealize] */
    }
    return true;
}

static void pci_qns_realize(DeviceState *dev, Error **errp)
{
    QNamespace *ns = PCI_QNS(dev);

    ns->pool = &qns_shared_pool;
    qns_setup(ns, errp);
}

static void pci_qns_unrealize(DeviceState *dev)
{
    QNamespace *ns = PCI_QNS(dev);

    g_free(ns->handles);
}

static void pci_qns_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = pci_qns_realize;
    dc->unrealize = pci_qns_unrealize;
}

static const TypeInfo pci_qns_info = {
    .name          = TYPE_PCI_QNS,
    .parent        = TYPE_DEVICE,
    .instance_size = sizeof(QNamespace),
    .class_init    = pci_qns_class_init,
};

static void pci_qctrl_realize(PCIDevice *pdev, Error **errp)
{
    PCIQCtrlState *s = PCI_QCTRL(pdev);

    if (!qns_setup(&s->ns, errp)) {
        return;
    }
}

static void pci_qctrl_exit(PCIDevice *pdev)
{
}

static void pci_qctrl_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_qctrl_realize;
    k->exit = pci_qctrl_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10f9;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
}

static const TypeInfo pci_qctrl_info = {
    .name          = TYPE_PCI_QCTRL,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIQCtrlState),
    .class_init    = pci_qctrl_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_qctrl_register_types(void)
{
    type_register_static(&pci_qns_info);
    type_register_static(&pci_qctrl_info);
}

type_init(pci_qctrl_register_types)
