/*
 * The machine's global address spaces (lifecheck examples tree)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_ADDRESS_SPACES_H
#define SYSTEM_ADDRESS_SPACES_H

#include "system/memory.h"

/* Get the root memory region.  This interface should only be used
 * temporarily until a proper bus interface is available.
 */
MemoryRegion *get_system_memory(void);

/* Get the root I/O port region.  This interface should only be used
 * temporarily until a proper bus interface is available.
 */
MemoryRegion *get_system_io(void);

#endif /* SYSTEM_ADDRESS_SPACES_H */
