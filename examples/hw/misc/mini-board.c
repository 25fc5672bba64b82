/*
 * A miniature board (lifecheck example)
 *
 * Shows: realize-error-leak of a QOM object held in a local, in a helper
 * that only a board's init runs (MachineClass.init): it holds only in
 * principle (hidden by default, shown with --show-all).
 *
 * mini_board_add_agent() returns on bind failure without dropping the
 * creation reference of its agent -- the bug pci-relay.c's
 * relay_attach_spare() has.  But a board's init runs once, as QEMU
 * starts, and passes &error_fatal: a failure ends QEMU, and the leak
 * never outlives the process.
 *
 * Fix, for tidiness: object_unref(agent) before returning.
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/boards.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_MINI_BOARD_AGENT "mini-board-agent"

bool mini_board_agent_bind(Object *agent, Error **errp);

static bool mini_board_add_agent(MachineState *ms, Error **errp)
{
    Object *agent;

    agent = object_new(TYPE_MINI_BOARD_AGENT);     /* lifecheck: expect[realize-error-leak] */
    if (!mini_board_agent_bind(agent, errp)) {
        return false;
    }
    object_property_add_child(OBJECT(ms), "agent", agent);
    object_unref(agent);
    return true;
}

static void mini_board_init(MachineState *ms)
{
    mini_board_add_agent(ms, &error_fatal);
}

static void mini_board_class_init(ObjectClass *oc, const void *data)
{
    MachineClass *mc = MACHINE_CLASS(oc);

    mc->desc = "lifecheck's miniature board";
    mc->init = mini_board_init;
}

static const TypeInfo mini_board_info = {
    .name          = "mini-board-machine",
    .parent        = TYPE_MACHINE,
    .class_init    = mini_board_class_init,
};

static void mini_board_register_types(void)
{
    type_register_static(&mini_board_info);
}

type_init(mini_board_register_types)
