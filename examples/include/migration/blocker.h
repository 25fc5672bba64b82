/*
 * Migration blockers (lifecheck examples tree)
 *
 * QEMU 8.2 and later: both calls take the address of the Error.  A failing
 * migrate_add_blocker() frees *reasonp and sets it to NULL;
 * migrate_del_blocker() removes the blocker, frees *reasonp and sets it
 * to NULL.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef MIGRATION_BLOCKER_H
#define MIGRATION_BLOCKER_H

int migrate_add_blocker(Error **reasonp, Error **errp);
void migrate_del_blocker(Error **reasonp);

#endif /* MIGRATION_BLOCKER_H */
