/*
 * PCI device with three DMA descriptor rings (lifecheck example)
 *
 * Shows: deviant-teardown and deviant-error-exit: leaks of an API that
 * no table of lifecheck's lists (hw/misc/dma-ring.h), found because the
 * device's own code says how to release it.
 *
 * Bug 1 (deviant-teardown): realize makes three rings with
 * dma_ring_new(); exit frees the receive and transmit rings with
 * dma_ring_free() and forgets the event ring, which leaks on every
 * unplug.  Fix: dma_ring_free(s->ev) in pci_dma_rings_exit().
 *
 * Bug 2 (deviant-error-exit): pci_dma_rings_load_firmware() frees its
 * staging buffer on the first error exit and not on the second.  Fix:
 * g_free(image) before the second return.  The scratch ring of the same
 * function is freed on both exits (quiet), and so is every value that
 * goes to an owner before the exit.
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "hw/misc/dma-ring.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_DMA_RINGS "pci-dma-rings"
OBJECT_DECLARE_SIMPLE_TYPE(PCIDMARingsState, PCI_DMA_RINGS)

#define DMA_RINGS_IMAGE_SIZE 4096

struct PCIDMARingsState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    DMARing *rx;
    DMARing *tx;
    DMARing *ev;
    uint32_t entries;
};

static bool pci_dma_rings_load_firmware(PCIDMARingsState *s, Error **errp)
{
    char *image = g_malloc(DMA_RINGS_IMAGE_SIZE);     /* lifecheck: expect[deviant-error-exit] */
    DMARing *scratch = dma_ring_new(s, 4);            /* lifecheck: ok[deviant-error-exit] */

    if (dma_ring_load(scratch, image, errp) < 0) {
        dma_ring_free(scratch);
        g_free(image);
        return false;
    }
    if (!dma_ring_check(scratch)) {
        error_setg(errp, "pci-dma-rings: bad firmware image");
        dma_ring_free(scratch);
        return false;
    }
    dma_ring_free(scratch);
    g_free(image);
    return true;
}

static void pci_dma_rings_realize(PCIDevice *pdev, Error **errp)
{
    PCIDMARingsState *s = PCI_DMA_RINGS(pdev);

    if (!pci_dma_rings_load_firmware(s, errp)) {
        return;
    }
    s->rx = dma_ring_new(s, s->entries);              /* lifecheck: ok[deviant-teardown] */
    s->tx = dma_ring_new(s, s->entries);              /* lifecheck: ok[deviant-teardown] */
    s->ev = dma_ring_new(s, 16);                      /* lifecheck: expect[deviant-teardown] */
}

static void pci_dma_rings_exit(PCIDevice *pdev)
{
    PCIDMARingsState *s = PCI_DMA_RINGS(pdev);

    dma_ring_free(s->rx);
    dma_ring_free(s->tx);
}

static const Property pci_dma_rings_properties[] = {
    DEFINE_PROP_UINT32("entries", PCIDMARingsState, entries, 256),
};

static void pci_dma_rings_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_dma_rings_realize;
    k->exit = pci_dma_rings_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10f9;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
    device_class_set_props(dc, pci_dma_rings_properties);
}

static const TypeInfo pci_dma_rings_info = {
    .name          = TYPE_PCI_DMA_RINGS,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIDMARingsState),
    .class_init    = pci_dma_rings_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_dma_rings_register_types(void)
{
    type_register_static(&pci_dma_rings_info);
}

type_init(pci_dma_rings_register_types)
