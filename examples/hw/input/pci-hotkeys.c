/*
 * PCI hotkey card (lifecheck example)
 *
 * Shows: leak-on-unrealize of a registration on a hot-pluggable PCI
 * device (severity: error), next to one that is undone correctly.
 *
 * The card mirrors the host keyboard LEDs into its LED register and
 * raises its interrupt when the machine is asked to power down, so a
 * guest agent can shut down cleanly.  Both are registrations with QEMU's
 * system-wide lists that keep a pointer to the device: an LED event
 * handler (qemu_add_led_event_handler) and a powerdown notifier
 * (qemu_register_powerdown_notifier).
 *
 * Bug: exit removes the LED handler but leaves the powerdown notifier on
 * the list.  After device_del the device is freed, and the next
 * system_powerdown calls pci_hotkeys_powerdown() on freed memory
 * (leak-on-unrealize, reported where the notifier is registered).
 *
 * Fix: notifier_remove(&s->powerdown) in pci_hotkeys_exit(); there is no
 * qemu_unregister_powerdown_notifier().
 *
 * Correct, and not reported: the LED handler, added in realize and
 * removed in exit.
 *
 * Copyright (c) 2025 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "system/runstate.h"
#include "ui/console.h"
#include "qemu/notify.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_HOTKEYS "pci-hotkeys"
OBJECT_DECLARE_SIMPLE_TYPE(PCIHotkeysState, PCI_HOTKEYS)

#define PCI_HOTKEYS_EVENT_POWERDOWN 0x1

struct PCIHotkeysState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    QEMUPutLEDEntry *led_entry;
    Notifier powerdown;

    uint32_t leds;
    uint32_t events;
    bool powerdown_irq;
};

static void pci_hotkeys_leds(void *opaque, int ledstate)
{
    PCIHotkeysState *s = opaque;

    s->leds = ledstate;
}

static void pci_hotkeys_powerdown(Notifier *n, void *opaque)
{
    PCIHotkeysState *s = container_of(n, PCIHotkeysState, powerdown);

    s->events |= PCI_HOTKEYS_EVENT_POWERDOWN;
    pci_set_irq(PCI_DEVICE(s), 1);
}

static void pci_hotkeys_realize(PCIDevice *pdev, Error **errp)
{
    PCIHotkeysState *s = PCI_HOTKEYS(pdev);

    pci_config_set_interrupt_pin(pdev->config, 1);

    s->led_entry = qemu_add_led_event_handler(pci_hotkeys_leds, s); /* lifecheck: ok[leak-on-unrealize] */
    if (s->powerdown_irq) {
        s->powerdown.notify = pci_hotkeys_powerdown;
        qemu_register_powerdown_notifier(&s->powerdown); /* lifecheck: expect[leak-on-unrealize] */
    }
}

static void pci_hotkeys_exit(PCIDevice *pdev)
{
    PCIHotkeysState *s = PCI_HOTKEYS(pdev);

    qemu_remove_led_event_handler(s->led_entry);
    /* missing: notifier_remove(&s->powerdown) */
}

static const Property pci_hotkeys_properties[] = {
    DEFINE_PROP_BOOL("powerdown-irq", PCIHotkeysState, powerdown_irq, true),
};

static void pci_hotkeys_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_hotkeys_realize;
    k->exit = pci_hotkeys_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x10f8;
    k->class_id = PCI_CLASS_SYSTEM_OTHER;
    dc->desc = "PCI hotkey card";
    device_class_set_props(dc, pci_hotkeys_properties);
}

static const TypeInfo pci_hotkeys_info = {
    .name          = TYPE_PCI_HOTKEYS,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCIHotkeysState),
    .class_init    = pci_hotkeys_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_hotkeys_register_types(void)
{
    type_register_static(&pci_hotkeys_info);
}

type_init(pci_hotkeys_register_types)
