/*
 * Run state and system events (lifecheck examples tree)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_RUNSTATE_H
#define SYSTEM_RUNSTATE_H

#include "qemu/notify.h"

/*
 * qemu_register_powerdown_notifier: call @notifier on every ACPI-style
 * powerdown request (system_powerdown).  There is no unregister function:
 * the notifier leaves the list with notifier_remove().
 */
void qemu_register_powerdown_notifier(Notifier *notifier);

#endif /* SYSTEM_RUNSTATE_H */
