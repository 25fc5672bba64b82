/*
 * ISA bus (lifecheck examples tree)
 *
 * A machine has at most one ISA bus: isa_bus_new() fails with "Can't
 * create a second ISA bus" when one exists.  The device that makes it
 * (a southbridge function) is the board's built-in one.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_ISA_H
#define HW_ISA_H

#include "hw/qdev-core.h"
#include "system/memory.h"

typedef struct ISABus ISABus;

ISABus *isa_bus_new(DeviceState *dev, MemoryRegion *address_space,
                    MemoryRegion *address_space_io, Error **errp);

#endif /* HW_ISA_H */
