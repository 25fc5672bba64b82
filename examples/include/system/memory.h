/*
 * Physical memory management API (lifecheck examples tree)
 *
 * A MemoryRegion is a QOM object owned by a device (its @owner).  Regions
 * are created with a memory_region_init*() call and made visible to the
 * guest by adding them to a container with memory_region_add_subregion().
 * See QEMU's docs/devel/memory.rst, "Region lifecycle".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_MEMORY_H
#define SYSTEM_MEMORY_H

#include "exec/cpu-common.h"
#include "exec/hwaddr.h"
#include "qom/object.h"

#define TYPE_MEMORY_REGION "memory-region"
DECLARE_INSTANCE_CHECKER(MemoryRegion, MEMORY_REGION,
                         TYPE_MEMORY_REGION)

typedef struct MemoryRegionOps MemoryRegionOps;

/*
 * Memory region callbacks
 */
struct MemoryRegionOps {
    /* Read from the memory region. @addr is relative to @mr; @size is
     * in bytes. */
    uint64_t (*read)(void *opaque,
                     hwaddr addr,
                     unsigned size);
    /* Write to the memory region. @addr is relative to @mr; @size is
     * in bytes. */
    void (*write)(void *opaque,
                  hwaddr addr,
                  uint64_t data,
                  unsigned size);

    enum device_endian endianness;
    /* Guest-visible constraints: */
    struct {
        unsigned min_access_size;
        unsigned max_access_size;
        bool unaligned;
    } valid;
    /* Internal implementation constraints: */
    struct {
        unsigned min_access_size;
        unsigned max_access_size;
        bool unaligned;
    } impl;
};

struct MemoryRegion {
    Object parent_obj;

    /* private: */
    bool ram;
    bool readonly;
    bool enabled;
    Object *owner;
    const MemoryRegionOps *ops;
    void *opaque;
    MemoryRegion *container;
    MemoryRegion *alias;
    hwaddr alias_offset;
    uint64_t size;
    hwaddr addr;
    int32_t priority;
    const char *name;
};

/*
 * memory_region_init: initialise a pure container region (no ops, no
 * RAM); it only groups subregions.
 */
void memory_region_init(MemoryRegion *mr,
                        Object *owner,
                        const char *name,
                        uint64_t size);

/* memory_region_init_io: an I/O region; accesses call @ops with @opaque. */
void memory_region_init_io(MemoryRegion *mr,
                           Object *owner,
                           const MemoryRegionOps *ops,
                           void *opaque,
                           const char *name,
                           uint64_t size);

/* memory_region_init_ram: a RAM region.  Returns false and sets @errp on
 * failure. */
bool memory_region_init_ram(MemoryRegion *mr,
                            Object *owner,
                            const char *name,
                            uint64_t size,
                            Error **errp);

/* memory_region_owner: the object that owns @mr (NULL when it has none). */
Object *memory_region_owner(MemoryRegion *mr);

/* memory_region_init_ram_nomigrate: a RAM region that is not migrated
 * until vmstate_register_ram() names it (memory_region_init_ram() is the
 * two together). */
bool memory_region_init_ram_nomigrate(MemoryRegion *mr,
                                      Object *owner,
                                      const char *name,
                                      uint64_t size,
                                      Error **errp);

/* memory_region_init_alias: a window of @size bytes into @orig, starting
 * at @offset. */
void memory_region_init_alias(MemoryRegion *mr,
                              Object *owner,
                              const char *name,
                              MemoryRegion *orig,
                              hwaddr offset,
                              uint64_t size);

uint64_t memory_region_size(MemoryRegion *mr);
void memory_region_set_enabled(MemoryRegion *mr, bool enabled);
void memory_region_set_address(MemoryRegion *mr, hwaddr addr);

/*
 * memory_region_add_subregion: map @subregion into the container @mr at
 * @offset.  The mapping holds a reference to @subregion's owner until it
 * is removed with memory_region_del_subregion().
 */
void memory_region_add_subregion(MemoryRegion *mr,
                                 hwaddr offset,
                                 MemoryRegion *subregion);
void memory_region_add_subregion_overlap(MemoryRegion *mr,
                                         hwaddr offset,
                                         MemoryRegion *subregion,
                                         int priority);
void memory_region_del_subregion(MemoryRegion *mr,
                                 MemoryRegion *subregion);

#endif /* SYSTEM_MEMORY_H */
