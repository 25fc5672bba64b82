/*
 * Physical address type (lifecheck examples tree)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HWADDR_H
#define HWADDR_H

typedef uint64_t hwaddr;
#define HWADDR_PRIx PRIx64

#endif /* HWADDR_H */
