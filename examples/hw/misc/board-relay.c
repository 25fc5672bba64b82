/*
 * Board relay with a helper agent (lifecheck example)
 *
 * Shows: realize-error-leak of a QOM object held in a local, in a helper
 * that only a board device's realize runs: it holds only in principle
 * (hidden by default, shown with --show-all).
 *
 * The same bug as pci-relay.c's relay_attach_spare(): the helper returns
 * on bind failure without dropping the creation reference of its agent.
 * But the only caller is the realize of a sysbus device, which the board
 * creates at start-up: if its realize fails, QEMU exits, and the leak
 * never outlives the process.  (pci-relay.c's helper runs in the realize
 * of a PCI device that device_add can add at run time: shown.)
 *
 * Fix, for tidiness: object_unref(agent) before returning.
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/sysbus.h"
#include "hw/qdev-properties.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_BOARD_RELAY "board-relay"
OBJECT_DECLARE_SIMPLE_TYPE(BoardRelayState, BOARD_RELAY)

#define TYPE_BOARD_RELAY_AGENT "board-relay-agent"

struct BoardRelayState {
    /*< private >*/
    SysBusDevice parent_obj;
    /*< public >*/

    uint32_t port;
};

bool board_relay_agent_bind(Object *agent, uint32_t port, Error **errp);

static bool board_relay_attach(BoardRelayState *s, Error **errp)
{
    Object *agent;

    agent = object_new(TYPE_BOARD_RELAY_AGENT);    /* lifecheck: expect[realize-error-leak] */
    if (!board_relay_agent_bind(agent, s->port, errp)) {
        return false;
    }
    object_property_add_child(OBJECT(s), "agent", agent);
    object_unref(agent);
    return true;
}

static void board_relay_realize(DeviceState *dev, Error **errp)
{
    BoardRelayState *s = BOARD_RELAY(dev);

    board_relay_attach(s, errp);
}

static const Property board_relay_properties[] = {
    DEFINE_PROP_UINT32("port", BoardRelayState, port, 0),
};

static void board_relay_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = board_relay_realize;
    device_class_set_props(dc, board_relay_properties);
}

static const TypeInfo board_relay_info = {
    .name          = TYPE_BOARD_RELAY,
    .parent        = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(BoardRelayState),
    .class_init    = board_relay_class_init,
};

static void board_relay_register_types(void)
{
    type_register_static(&board_relay_info);
}

type_init(board_relay_register_types)
