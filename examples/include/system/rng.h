/*
 * Random number generator back ends (lifecheck examples tree)
 *
 * A device asks its RngBackend for entropy; the backend queues the
 * request and calls @receive_entropy with @opaque once entropy is
 * available, later, from the main loop.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_RNG_H
#define QEMU_RNG_H

#include "qom/object.h"

typedef struct RngBackend RngBackend;

typedef void (EntropyReceiveFunc)(void *opaque,
                                  const void *data,
                                  size_t size);

void rng_backend_request_entropy(RngBackend *s, size_t size,
                                 EntropyReceiveFunc *receive_entropy,
                                 void *opaque);

/*
 * rng_backend_cancel_requests: drop the pending requests of @s made with
 * @receive_entropy and @opaque (QEMU 10.0.13 and later).
 */
void rng_backend_cancel_requests(RngBackend *s,
                                 EntropyReceiveFunc *receive_entropy,
                                 const void *opaque);

#endif /* QEMU_RNG_H */
