/*
 * Dirty log (lifecheck example)
 *
 * Shows: init-leak of live-migration handlers registered in instance_init
 * (register_savevm_live()).
 *
 * The object streams a log of dirty pages during live migration: its
 * instance_init registers save/load handlers with the device as opaque.
 *
 * Bug: instance_init runs for every object created, also for one that is
 * only introspected (device-list-properties) and destroyed without being
 * realized; nothing unregisters the handlers, which keep a pointer to the
 * freed object (QEMU's s390-stattrib had it until "hw/s390x/s390-stattrib:
 * Don't call register_savevm_live() during instance_init()").
 *
 * Fix: unregister the handlers in instance_finalize:
 * unregister_savevm(NULL, TYPE_DIRTY_LOG, s), NULL because
 * register_savevm_live() registers the id without an object (or move the
 * registration to realize).
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/qdev-core.h"
#include "migration/register.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_DIRTY_LOG "dirty-log"
OBJECT_DECLARE_SIMPLE_TYPE(DirtyLogState, DIRTY_LOG)

struct DirtyLogState {
    DeviceState parent_obj;

    uint64_t pages;
};

static int dirty_log_save_setup(QEMUFile *f, void *opaque, Error **errp)
{
    DirtyLogState *s = opaque;

    s->pages = 0;
    return 0;
}

static int dirty_log_load(QEMUFile *f, void *opaque, int version_id)
{
    return 0;
}

static SaveVMHandlers savevm_dirty_log_handlers = {
    .save_setup = dirty_log_save_setup,
    .load_state = dirty_log_load,
};

static void dirty_log_instance_init(Object *obj)
{
    DirtyLogState *s = DIRTY_LOG(obj);

    register_savevm_live(TYPE_DIRTY_LOG, 0, 0, &savevm_dirty_log_handlers, s); /* lifecheck: expect[init-leak] */
}

static void dirty_log_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->user_creatable = false;
}

static const TypeInfo dirty_log_info = {
    .name          = TYPE_DIRTY_LOG,
    .parent        = TYPE_DEVICE,
    .instance_init = dirty_log_instance_init,
    .instance_size = sizeof(DirtyLogState),
    .class_init    = dirty_log_class_init,
};

static void dirty_log_register_types(void)
{
    type_register_static(&dirty_log_info);
}

type_init(dirty_log_register_types)
