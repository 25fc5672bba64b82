/*
 * Notifier lists (lifecheck examples tree)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_NOTIFY_H
#define QEMU_NOTIFY_H

typedef struct Notifier Notifier;

struct Notifier {
    void (*notify)(Notifier *notifier, void *data);
    Notifier *next;
};

/*
 * notifier_remove: take @notifier off the list it was added to, by
 * notifier_list_add() or by a qemu_register_*_notifier() function.
 */
void notifier_remove(Notifier *notifier);

#endif /* QEMU_NOTIFY_H */
