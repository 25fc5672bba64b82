/*
 * System (CPU) bus devices (lifecheck examples tree)
 *
 * Sysbus devices are wired up by the board and cannot be unplugged.
 * A device exports its MMIO regions with sysbus_init_mmio(); the board
 * maps them with sysbus_mmio_map().
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_SYSBUS_H
#define HW_SYSBUS_H

#include "hw/qdev-core.h"
#include "system/memory.h"

#define QDEV_MAX_MMIO 32
#define QDEV_MAX_IRQ 32

#define TYPE_SYS_BUS_DEVICE "sys-bus-device"
OBJECT_DECLARE_TYPE(SysBusDevice, SysBusDeviceClass,
                    SYS_BUS_DEVICE)

struct SysBusDeviceClass {
    /* private: */
    DeviceClass parent_class;
};

struct SysBusDevice {
    /* private: */
    DeviceState parent_obj;
    /* public: */

    int num_mmio;
    struct {
        hwaddr addr;
        MemoryRegion *memory;
    } mmio[QDEV_MAX_MMIO];
};

void sysbus_init_mmio(SysBusDevice *dev, MemoryRegion *memory);
MemoryRegion *sysbus_mmio_get_region(SysBusDevice *dev, int n);
void sysbus_init_irq(SysBusDevice *dev, qemu_irq *p);
void sysbus_mmio_map(SysBusDevice *dev, int n, hwaddr addr);
bool sysbus_realize(SysBusDevice *dev, Error **errp);

#endif /* HW_SYSBUS_H */
