/*
 * Character device front-ends (lifecheck examples tree)
 *
 * A device talks to a chardev back-end through a CharFrontend it embeds,
 * usually set by a DEFINE_PROP_CHR property.  qemu_chr_fe_set_handlers()
 * with handlers registers them with @opaque; with every handler NULL it
 * removes them.  qemu_chr_fe_deinit() removes them too.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_CHAR_FE_H
#define QEMU_CHAR_FE_H

typedef struct GMainContext GMainContext;

typedef enum QEMUChrEvent {
    CHR_EVENT_BREAK,
    CHR_EVENT_OPENED,
    CHR_EVENT_MUX_IN,
    CHR_EVENT_MUX_OUT,
    CHR_EVENT_CLOSED,
} QEMUChrEvent;

typedef int IOCanReadHandler(void *opaque);
typedef void IOReadHandler(void *opaque, const uint8_t *buf, int size);
typedef void IOEventHandler(void *opaque, QEMUChrEvent event);
typedef int BackendChangeHandler(void *opaque);

typedef struct CharFrontend {
    Chardev *chr;
    IOEventHandler *chr_event;
    IOCanReadHandler *chr_can_read;
    IOReadHandler *chr_read;
    BackendChangeHandler *chr_be_change;
    void *opaque;
    int tag;
    bool fe_is_open;
} CharFrontend;

void qemu_chr_fe_deinit(CharFrontend *c, bool del);
bool qemu_chr_fe_backend_connected(CharFrontend *c);
void qemu_chr_fe_set_handlers(CharFrontend *c,
                              IOCanReadHandler *fd_can_read,
                              IOReadHandler *fd_read,
                              IOEventHandler *fd_event,
                              BackendChangeHandler *be_change,
                              void *opaque,
                              GMainContext *context,
                              bool set_open);
int qemu_chr_fe_write_all(CharFrontend *c, const uint8_t *buf, int len);

#endif /* QEMU_CHAR_FE_H */
