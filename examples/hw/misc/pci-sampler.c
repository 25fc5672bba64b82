/*
 * PCI sampler device (lifecheck example)
 *
 * Shows: freed-in-unrealize by reachability (severity: error): memory the
 * device's own asynchronous paths still reach, freed in exit.
 *
 * A timer copies a sample into s->samples every tick; BAR 0 holds the
 * registers, and a window the device maps into the PCI memory space shows
 * the history of ticks (sampler_mmio_read reads s->history).  A scratch
 * buffer is used only while realizing.
 *
 * Bug: exit frees s->samples, but the timer is stopped only in
 * instance_finalize, so a tick after unplug writes into freed memory
 * (severity: error).  Exit also frees s->history before it unmaps the
 * window whose read handler reads it: the order is wrong, though under
 * the BQL no access can run in between (it holds only in principle:
 * hidden by default, shown with --show-all).  Freeing
 * s->scratch in exit is fine: no callback reaches it.  (BAR 0 needs
 * nothing: the PCI core unmaps the BARs before it calls exit.)
 *
 * Fix: cut the callbacks off first -- stop the timer (timer_free), unmap
 * the window -- and free what they touch afterwards, or free it in
 * instance_finalize (see pci-sampler-fixed.c).
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "system/memory.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_PCI_SAMPLER "pci-sampler"
OBJECT_DECLARE_SIMPLE_TYPE(PCISamplerState, PCI_SAMPLER)

#define SAMPLER_SLOTS       64
#define SAMPLER_PERIOD_NS   (1000 * 1000)
#define SAMPLER_WINDOW_BASE 0xfe000000

struct PCISamplerState {
    /*< private >*/
    PCIDevice parent_obj;
    /*< public >*/

    MemoryRegion mmio;
    MemoryRegion window;        /* history window, in the PCI memory space */
    QEMUTimer *tick;
    uint32_t *samples;
    uint32_t *history;
    uint8_t *scratch;
    uint32_t head;
};

static void sampler_tick(void *opaque)
{
    PCISamplerState *s = opaque;

    s->samples[s->head % SAMPLER_SLOTS] = s->head;
    s->head++;
    timer_mod(s->tick, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + SAMPLER_PERIOD_NS);
}

static uint32_t sampler_history_at(PCISamplerState *s, hwaddr addr)
{
    return s->history[(addr >> 2) % SAMPLER_SLOTS];
}

static uint64_t sampler_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    PCISamplerState *s = opaque;

    return sampler_history_at(s, addr);
}

static void sampler_mmio_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
}

static const MemoryRegionOps sampler_mmio_ops = {
    .read = sampler_mmio_read,
    .write = sampler_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

static uint64_t sampler_regs_read(void *opaque, hwaddr addr, unsigned size)
{
    PCISamplerState *s = opaque;

    return s->head;
}

static const MemoryRegionOps sampler_regs_ops = {
    .read = sampler_regs_read,
    .write = sampler_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
};

static void pci_sampler_realize(PCIDevice *pdev, Error **errp)
{
    PCISamplerState *s = PCI_SAMPLER(pdev);

    s->scratch = g_malloc0(4 * KiB);
    s->samples = g_new0(uint32_t, SAMPLER_SLOTS);
    s->history = g_new0(uint32_t, SAMPLER_SLOTS);
    memory_region_init_io(&s->mmio, OBJECT(s), &sampler_regs_ops, s, "pci-sampler.mmio", 4 * KiB);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);
    memory_region_init_io(&s->window, OBJECT(s), &sampler_mmio_ops, s, "pci-sampler.window", 4 * KiB);
    memory_region_add_subregion(pci_address_space(pdev), SAMPLER_WINDOW_BASE, &s->window);
    s->tick = timer_new_ns(QEMU_CLOCK_VIRTUAL, sampler_tick, s);
    timer_mod(s->tick, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + SAMPLER_PERIOD_NS);
}

static void pci_sampler_exit(PCIDevice *pdev)
{
    PCISamplerState *s = PCI_SAMPLER(pdev);

    g_free(s->scratch); /* lifecheck: ok[freed-in-unrealize] */
    g_free(s->samples); /* lifecheck: expect[freed-in-unrealize] */
    g_free(s->history); /* lifecheck: expect[freed-in-unrealize] */
    memory_region_del_subregion(pci_address_space(pdev), &s->window);
}

static void pci_sampler_finalize(Object *obj)
{
    PCISamplerState *s = PCI_SAMPLER(obj);

    timer_free(s->tick);
}

static void pci_sampler_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = pci_sampler_realize;
    k->exit = pci_sampler_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x1120;
    k->revision = 0x01;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "PCI sampler";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo pci_sampler_info = {
    .name          = TYPE_PCI_SAMPLER,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(PCISamplerState),
    .instance_finalize = pci_sampler_finalize,
    .class_init    = pci_sampler_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void pci_sampler_register_types(void)
{
    type_register_static(&pci_sampler_info);
}

type_init(pci_sampler_register_types)
