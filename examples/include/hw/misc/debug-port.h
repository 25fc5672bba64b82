/*
 * Debug port (lifecheck examples tree)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_MISC_DEBUG_PORT_H
#define HW_MISC_DEBUG_PORT_H

#include "system/memory.h"

#define TYPE_DEBUG_PORT "debug-port"

/*
 * debug_port_set_io_space: tell the debug-port devices which I/O region
 * to decode their ports in.  Called by the board before it creates them.
 */
void debug_port_set_io_space(MemoryRegion *space);

#endif /* HW_MISC_DEBUG_PORT_H */
