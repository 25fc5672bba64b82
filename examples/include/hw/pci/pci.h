/*
 * PCI bus and device API (lifecheck examples tree)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_PCI_H
#define QEMU_PCI_H

#include "system/memory.h"
#include "hw/pci/pci_ids.h"
#include "hw/pci/pci_regs.h"

typedef void PCIConfigWriteFunc(PCIDevice *pci_dev,
                                uint32_t address, uint32_t data, int len);
typedef uint32_t PCIConfigReadFunc(PCIDevice *pci_dev,
                                   uint32_t address, int len);
typedef void PCIUnregisterFunc(PCIDevice *pci_dev);

/*
 * pci_register_bar: make @memory the device's BAR @region_num.  The PCI
 * core maps and unmaps it as the guest programs the BAR, and removes the
 * mapping itself when the device is unplugged.
 */
void pci_register_bar(PCIDevice *pci_dev, int region_num,
                      uint8_t attr, MemoryRegion *memory);

/*
 * pci_address_space, pci_address_space_io: the memory and I/O spaces of
 * the bus the device sits on.  They belong to the bus, not to the device.
 */
MemoryRegion *pci_address_space(PCIDevice *dev);
MemoryRegion *pci_address_space_io(PCIDevice *dev);

void pci_set_irq(PCIDevice *pci_dev, int level);

/* pci_allocate_irq: the device's INTx pin as a qemu_irq; qemu_free_irq() it. */
qemu_irq pci_allocate_irq(PCIDevice *pci_dev);

static inline void
pci_set_byte(uint8_t *config, uint8_t val)
{
    *config = val;
}

static inline void
pci_config_set_interrupt_pin(uint8_t *pci_config, uint8_t val)
{
    pci_set_byte(&pci_config[PCI_INTERRUPT_PIN], val);
}

#endif /* QEMU_PCI_H */
