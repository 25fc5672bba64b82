/*
 * Bitmaps (lifecheck examples tree)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BITMAP_H
#define BITMAP_H

#include "qemu/bitops.h"

#define DECLARE_BITMAP(name, bits)                  \
        unsigned long name[BITS_TO_LONGS(bits)]

#endif /* BITMAP_H */
