/*
 * PCI configuration space registers (lifecheck examples tree)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_PCI_REGS_H
#define QEMU_PCI_REGS_H

#define PCI_INTERRUPT_PIN               0x3d

#define PCI_BASE_ADDRESS_SPACE_IO       0x01
#define PCI_BASE_ADDRESS_SPACE_MEMORY   0x00
#define PCI_BASE_ADDRESS_MEM_TYPE_64    0x04
#define PCI_BASE_ADDRESS_MEM_PREFETCH   0x08

#endif /* QEMU_PCI_REGS_H */
