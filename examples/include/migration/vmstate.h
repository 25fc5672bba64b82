/*
 * Migration state descriptions (lifecheck examples tree)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_VMSTATE_H
#define QEMU_VMSTATE_H

#include "qom/object.h"

typedef struct VMStateIf VMStateIf;
#define TYPE_VMSTATE_IF "vmstate-if"
#define VMSTATE_IF(obj) ((VMStateIf *)(obj))

struct VMStateDescription {
    const char *name;
    int version_id;
    int minimum_version_id;
};

/*
 * vmstate_register: register @vmsd for @obj with the migration core.
 * Devices set DeviceClass.vmsd instead, which qdev registers on realize
 * and unregisters on unrealize.  A manual registration must be undone
 * with vmstate_unregister().
 */
int vmstate_register(VMStateIf *obj, int instance_id,
                     const VMStateDescription *vmsd, void *opaque);
void vmstate_unregister(VMStateIf *obj, const VMStateDescription *vmsd,
                        void *opaque);

/*
 * vmstate_register_ram: migrate the RAM block of @mr under its name and
 * @dev's path; vmstate_unregister_ram() undoes it.
 */
void vmstate_register_ram(MemoryRegion *mr, DeviceState *dev);
void vmstate_unregister_ram(MemoryRegion *mr, DeviceState *dev);

#endif /* QEMU_VMSTATE_H */
