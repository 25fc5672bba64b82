/*
 * DMA descriptor rings shared by the examples' PCI devices (lifecheck
 * examples tree).  A library outside any device: lifecheck's API tables
 * do not list it, so what the devices do with it is all lifecheck knows.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_MISC_DMA_RING_H
#define HW_MISC_DMA_RING_H

#include "qapi/error.h"

typedef struct DMARing DMARing;

/* dma_ring_new: a ring of @entries descriptors; free it with dma_ring_free() */
DMARing *dma_ring_new(void *opaque, unsigned entries);
void dma_ring_free(DMARing *ring);
/* dma_ring_load: read the ring's initial descriptors from @image */
int dma_ring_load(DMARing *ring, const char *image, Error **errp);
bool dma_ring_check(DMARing *ring);

#endif /* HW_MISC_DMA_RING_H */
