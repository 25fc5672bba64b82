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

typedef enum RunState {
    RUN_STATE_DEBUG = 0,
    RUN_STATE_PAUSED = 4,
    RUN_STATE_RUNNING = 9,
} RunState;

typedef struct VMChangeStateEntry VMChangeStateEntry;
typedef void VMChangeStateHandler(void *opaque, bool running, RunState state);

/*
 * qemu_add_vm_change_state_handler: call @cb with @opaque whenever the VM
 * starts or stops.  Returns the entry to pass to
 * qemu_del_vm_change_state_handler(), which unlinks and frees it.
 */
VMChangeStateEntry *qemu_add_vm_change_state_handler(VMChangeStateHandler *cb,
                                                     void *opaque);
void qemu_del_vm_change_state_handler(VMChangeStateEntry *e);

#endif /* SYSTEM_RUNSTATE_H */
