/*
 * Reset-time ticker (lifecheck example)
 *
 * Shows: a leak each time the device is reset (leak-on-unrealize with the
 * consequence "leak each time it runs"), shown on a board device that is
 * never unplugged; and the same acquisition guarded by a test of the
 * field, which leaks only if the device were ever finalized (hidden by
 * default).
 *
 * Bug: the reset handler makes a new tick timer on every reset and stores
 * it over the previous one, which is never freed (like applesmc's key
 * list before QEMU fixed it): every system_reset leaks a QEMUTimer, on a
 * device that lives as long as the machine.  Fix: make the timer once, in
 * realize, and only timer_del() it on reset.
 *
 * Correct enough, and hidden by default: the alarm timer is made on the
 * first reset only (``if (!s->alarm)``); it would leak only if the device
 * were finalized, which a board device never is.
 *
 * Copyright (c) 2026 The lifecheck authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "hw/irq.h"
#include "hw/sysbus.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_RESET_TICKER "reset-ticker"
OBJECT_DECLARE_SIMPLE_TYPE(ResetTickerState, RESET_TICKER)

struct ResetTickerState {
    /*< private >*/
    SysBusDevice parent_obj;
    /*< public >*/

    QEMUTimer *tick;
    QEMUTimer *alarm;
    qemu_irq irq;
    uint32_t count;
};

static void reset_ticker_tick(void *opaque)
{
    ResetTickerState *s = opaque;

    s->count++;
    qemu_irq_raise(s->irq);
}

static void reset_ticker_reset(DeviceState *dev)
{
    ResetTickerState *s = RESET_TICKER(dev);

    s->count = 0;
    s->tick = timer_new_ns(QEMU_CLOCK_VIRTUAL, reset_ticker_tick, s); /* lifecheck: expect[leak-on-unrealize] */
    if (!s->alarm) {
        s->alarm = timer_new_ns(QEMU_CLOCK_VIRTUAL, reset_ticker_tick, s); /* lifecheck: expect[leak-on-unrealize] */
    }
}

static void reset_ticker_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);

    device_class_set_legacy_reset(dc, reset_ticker_reset);
}

static const TypeInfo reset_ticker_info = {
    .name          = TYPE_RESET_TICKER,
    .parent        = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof(ResetTickerState),
    .class_init    = reset_ticker_class_init,
};

static void reset_ticker_register_types(void)
{
    type_register_static(&reset_ticker_info);
}

type_init(reset_ticker_register_types)
