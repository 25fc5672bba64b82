/*
 * Common declarations for all targets (lifecheck examples tree)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CPU_COMMON_H
#define CPU_COMMON_H

enum device_endian {
    DEVICE_NATIVE_ENDIAN,
    DEVICE_BIG_ENDIAN,
    DEVICE_LITTLE_ENDIAN,
};

#endif /* CPU_COMMON_H */
