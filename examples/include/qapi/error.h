/*
 * Error reporting (lifecheck examples tree)
 *
 * Functions that can fail take Error **errp as their last argument and
 * set it with error_setg() on failure.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef ERROR_H
#define ERROR_H

/* Pass &error_abort or &error_fatal as errp to abort or exit on error. */
extern Error *error_abort;
extern Error *error_fatal;

#define error_setg(errp, fmt, ...)                              \
    error_setg_internal((errp), __FILE__, __LINE__, __func__,   \
                        (fmt), ## __VA_ARGS__)
void error_setg_internal(Error **errp,
                         const char *src, int line, const char *func,
                         const char *fmt, ...)
    G_GNUC_PRINTF(5, 6);

void error_propagate(Error **dst_errp, Error *local_err);

void error_free(Error *err);
void error_report_err(Error *err);

#endif /* ERROR_H */
