/*
 * Live-migration handlers (lifecheck examples tree): the part of QEMU's
 * include/migration/register.h the examples use, written for them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MIGRATION_REGISTER_H
#define MIGRATION_REGISTER_H

#include "migration/vmstate.h"

typedef struct QEMUFile QEMUFile;

typedef struct SaveVMHandlers {
    int (*save_setup)(QEMUFile *f, void *opaque, Error **errp);
    int (*load_state)(QEMUFile *f, void *opaque, int version_id);
} SaveVMHandlers;

int register_savevm_live(const char *idstr,
                         uint32_t instance_id,
                         int version_id,
                         const SaveVMHandlers *ops,
                         void *opaque);

void unregister_savevm(VMStateIf *obj, const char *idstr, void *opaque);

#endif
