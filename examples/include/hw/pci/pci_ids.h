/*
 * PCI vendor, device and class ids (lifecheck examples tree)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_PCI_IDS_H
#define HW_PCI_IDS_H

#define PCI_CLASS_DISPLAY_VGA            0x0300
#define PCI_CLASS_DISPLAY_OTHER          0x0380
#define PCI_CLASS_SYSTEM_OTHER           0x0880
#define PCI_CLASS_BRIDGE_ISA             0x0601
#define PCI_CLASS_MEMORY_RAM             0x0500
#define PCI_CLASS_OTHERS                 0xff

#define PCI_VENDOR_ID_QEMU               0x1234
#define PCI_VENDOR_ID_REDHAT             0x1b36

#endif /* HW_PCI_IDS_H */
