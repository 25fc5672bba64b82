/*
 * PCI watchdog (lifecheck example)
 *
 * Shows: realize-error-leak and leak-on-unrealize on a hot-pluggable PCI
 * device (severity: error).
 *
 * Realize creates the bark timer, then validates the configuration and
 * may fail.  When it fails, the PCI core does not call exit: only
 * instance_finalize runs later, and it does not free the timer.
 *
 * Bugs:
 *  - realize returns on the error path without freeing s->bark
 *    (realize-error-leak, reported where the timer is created);
 *  - the INTx line from pci_allocate_irq() is never freed
 *    (leak-on-unrealize): every hot-unplug leaks it.
 *
 * Fixes: timer_free(s->bark) on the error path, or create the timer after
 * the check; qemu_free_irq(s->irq) in pci_watchdog_exit().
 *
 * Correct, and not reported: the statistics buffer, g_malloc'd in realize
 * and freed in instance_finalize (memory may be reclaimed there), and the
 * check timer, created after the last error exit and freed in exit.
 *
 * Copyright (c) 2025 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/irq.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_WATCHDOG "pci-watchdog"
OBJECT_DECLARE_SIMPLE_TYPE(PCIWatchdogState, PCI_WATCHDOG)

struct PCIWatchdogState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    QEMUTimer *bark;
    QEMUTimer *check;
    qemu_irq irq;
    uint64_t *stats;

    uint32_t timeout_ms;
    uint32_t nr_stats;
};

static void pci_watchdog_bark(void *opaque)
{
    PCIWatchdogState *s = opaque;

    qemu_irq_raise(s->irq);
}

static void pci_watchdog_check(void *opaque)
{
    PCIWatchdogState *s = opaque;

    s->stats[0]++;
}

static bool pci_watchdog_check_config(PCIWatchdogState *s, Error **errp)
{
    if (s->timeout_ms == 0) {
        error_setg(errp, "pci-watchdog: timeout must not be zero");
        return false;
    }
    return true;
}

static void pci_watchdog_realize(PCIDevice *pdev, Error **errp)
{
    PCIWatchdogState *s = PCI_WATCHDOG(pdev);

    s->stats = g_new0(uint64_t, s->nr_stats + 1);   /* lifecheck: ok[leak-on-unrealize] */
    s->bark = timer_new_ms(QEMU_CLOCK_VIRTUAL, pci_watchdog_bark, s); /* lifecheck: expect[realize-error-leak] */
    if (!pci_watchdog_check_config(s, errp)) {
        return;
    }
    s->check = timer_new_ms(QEMU_CLOCK_VIRTUAL, pci_watchdog_check, s); /* lifecheck: ok[realize-error-leak] */
    s->irq = pci_allocate_irq(pdev);                /* lifecheck: expect[leak-on-unrealize] */
}

static void pci_watchdog_exit(PCIDevice *pdev)
{
    PCIWatchdogState *s = PCI_WATCHDOG(pdev);

    timer_free(s->bark);
    timer_free(s->check);
}

static void pci_watchdog_finalize(Object *obj)
{
    PCIWatchdogState *s = PCI_WATCHDOG(obj);

    g_free(s->stats);
}

static const Property pci_watchdog_properties[] = {
    DEFINE_PROP_UINT32("timeout-ms", PCIWatchdogState, timeout_ms, 1000),
    DEFINE_PROP_UINT32("stats", PCIWatchdogState, nr_stats, 4),
};

static void pci_watchdog_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_watchdog_realize;
    k->exit = pci_watchdog_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10f7;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
    device_class_set_props(dc, pci_watchdog_properties);
}

static const TypeInfo pci_watchdog_info = {
    .name          = TYPE_PCI_WATCHDOG,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIWatchdogState),
    .instance_finalize = pci_watchdog_finalize,
    .class_init    = pci_watchdog_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_watchdog_register_types(void)
{
    type_register_static(&pci_watchdog_info);
}

type_init(pci_watchdog_register_types)
