/*
 * Consoles and legacy input handlers (lifecheck examples tree)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef UI_CONSOLE_H
#define UI_CONSOLE_H

/* keyboard LED state bits */
#define QEMU_SCROLL_LOCK_LED (1 << 0)
#define QEMU_NUM_LOCK_LED    (1 << 1)
#define QEMU_CAPS_LOCK_LED   (1 << 2)

typedef void QEMUPutLEDEvent(void *opaque, int ledstate);
typedef struct QEMUPutLEDEntry QEMUPutLEDEntry;

/*
 * qemu_add_led_event_handler: call @func(@opaque, ledstate) whenever the
 * keyboard LEDs change.  Returns the entry that
 * qemu_remove_led_event_handler() takes.
 */
QEMUPutLEDEntry *qemu_add_led_event_handler(QEMUPutLEDEvent *func, void *opaque);
void qemu_remove_led_event_handler(QEMUPutLEDEntry *entry);

#endif /* UI_CONSOLE_H */
