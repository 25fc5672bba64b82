/*
 * Typedef names used across headers (lifecheck examples tree)
 *
 * As in QEMU, declaring the typedef name here lets headers refer to a
 * type without including the header that defines it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_TYPEDEFS_H
#define QEMU_TYPEDEFS_H

typedef struct BusState BusState;
typedef struct Chardev Chardev;
typedef struct DeviceState DeviceState;
typedef struct Error Error;
typedef struct MemoryRegion MemoryRegion;
typedef struct Object Object;
typedef struct ObjectClass ObjectClass;
typedef struct PCIBus PCIBus;
typedef struct PCIDevice PCIDevice;
typedef struct Property Property;
typedef struct PropertyInfo PropertyInfo;
typedef struct QEMUTimer QEMUTimer;
typedef struct QEMUTimerListGroup QEMUTimerListGroup;
typedef struct VirtIODevice VirtIODevice;
typedef struct VMStateDescription VMStateDescription;
typedef struct IRQState *qemu_irq;

#endif /* QEMU_TYPEDEFS_H */
