/*
 * Threads and their synchronisation (lifecheck examples tree)
 *
 * In QEMU, QemuThread, QemuMutex and QemuCond wrap the host's threads
 * (include/qemu/thread-posix.h); opaque stand-ins are enough here.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_THREAD_H
#define QEMU_THREAD_H

typedef struct QemuThread { unsigned long thread; } QemuThread;
typedef struct QemuMutex { int initialized; } QemuMutex;
typedef struct QemuCond { int initialized; } QemuCond;

#define QEMU_THREAD_JOINABLE 0
#define QEMU_THREAD_DETACHED 1

void qemu_mutex_init(QemuMutex *mutex);
void qemu_mutex_destroy(QemuMutex *mutex);
void qemu_mutex_lock(QemuMutex *mutex);
void qemu_mutex_unlock(QemuMutex *mutex);

void qemu_cond_init(QemuCond *cond);
void qemu_cond_destroy(QemuCond *cond);
void qemu_cond_signal(QemuCond *cond);
void qemu_cond_broadcast(QemuCond *cond);
void qemu_cond_wait(QemuCond *cond, QemuMutex *mutex);

void qemu_thread_create(QemuThread *thread, const char *name,
                        void *(*start_routine)(void *),
                        void *arg, int mode);
void *qemu_thread_join(QemuThread *thread);

#endif
