/*
 * Event loop contexts and one-shot bottom halves (lifecheck examples
 * tree; the names and shapes of QEMU's include/block/aio.h)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BLOCK_AIO_H
#define BLOCK_AIO_H

typedef struct AioContext AioContext;
typedef void QEMUBHFunc(void *opaque);

AioContext *qemu_get_aio_context(void);

/* Run cb(opaque) once, later, in ctx; the BH frees itself afterwards. */
void aio_bh_schedule_oneshot_full(AioContext *ctx, QEMUBHFunc *cb, void *opaque,
                                  const char *name);
#define aio_bh_schedule_oneshot(ctx, cb, opaque) \
    aio_bh_schedule_oneshot_full((ctx), (cb), (opaque), (#cb))

#endif
