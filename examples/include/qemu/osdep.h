/*
 * OS includes and handling of OS dependencies (lifecheck examples tree)
 *
 * Like QEMU's, this is the first header every .c file includes.  It pulls
 * in the few standard headers the examples need, glib (here: a stand-in),
 * and the typedef names of qemu/typedefs.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_OSDEP_H
#define QEMU_OSDEP_H

#include "qemu/compiler.h"

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <inttypes.h>

#include "glib-compat.h"
#include "qemu/typedefs.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))
#endif

/* file descriptors (<fcntl.h>, <unistd.h>) */
#ifndef O_RDWR
#define O_RDWR 02
#endif
int open(const char *path, int flags, ...);
int close(int fd);

#endif /* QEMU_OSDEP_H */
