/*
 * Virtio device ids (lifecheck examples tree)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef _LINUX_VIRTIO_IDS_H
#define _LINUX_VIRTIO_IDS_H

#define VIRTIO_ID_NET           1 /* virtio net */
#define VIRTIO_ID_BLOCK         2 /* virtio block */
#define VIRTIO_ID_CONSOLE       3 /* virtio console */
#define VIRTIO_ID_RNG           4 /* virtio rng */
#define VIRTIO_ID_PMEM          27 /* virtio pmem */

#endif /* _LINUX_VIRTIO_IDS_H */
