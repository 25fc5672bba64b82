/*
 * Device properties (lifecheck examples tree)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_QDEV_PROPERTIES_H
#define QEMU_QDEV_PROPERTIES_H

#include "hw/qdev-core.h"

struct Property {
    const char   *name;
    const PropertyInfo *info;
    ptrdiff_t    offset;
    const char   *link_type;
    union {
        int64_t i;
        uint64_t u;
    } defval;
    bool         set_default;
    const PropertyInfo *arrayinfo;
    int          arrayoffset;
    int          arrayfieldsize;
};

struct PropertyInfo {
    const char *type;
    const char *description;
};

extern const PropertyInfo qdev_prop_bool;
extern const PropertyInfo qdev_prop_uint8;
extern const PropertyInfo qdev_prop_uint16;
extern const PropertyInfo qdev_prop_uint32;
extern const PropertyInfo qdev_prop_uint64;
extern const PropertyInfo qdev_prop_size;
extern const PropertyInfo qdev_prop_link;
extern const PropertyInfo qdev_prop_array;
extern const PropertyInfo qdev_prop_chr;

#define DEFINE_PROP(_name, _state, _field, _prop, _type, ...) {  \
        .name      = (_name),                                    \
        .info      = &(_prop),                                   \
        .offset    = offsetof(_state, _field),                   \
        __VA_ARGS__                                              \
        }

#define DEFINE_PROP_UNSIGNED(_name, _state, _field, _defval, _prop, _type) \
    DEFINE_PROP(_name, _state, _field, _prop, _type,                       \
                .set_default = true,                                       \
                .defval.u  = (_type)_defval)

#define DEFINE_PROP_BOOL(_name, _state, _field, _defval)         \
    DEFINE_PROP(_name, _state, _field, qdev_prop_bool, bool,     \
                .set_default = true,                             \
                .defval.u    = (bool)_defval)

/*
 * DEFINE_PROP_LINK: a link property; the field holds a pointer to an
 * object of type @_type that someone else (the board, a transport)
 * created and owns.
 */
#define DEFINE_PROP_LINK(_name, _state, _field, _type, _ptr_type) {  \
        .name      = (_name),                                        \
        .info      = &(qdev_prop_link),                              \
        .offset    = offsetof(_state, _field),                       \
        .link_type = _type,                                          \
        }

/*
 * DEFINE_PROP_CHR: a character device front-end (CharFrontend); the
 * property's release hook calls qemu_chr_fe_deinit() when the object is
 * finalized.
 */
#define DEFINE_PROP_CHR(_n, _s, _f)             \
    DEFINE_PROP(_n, _s, _f, qdev_prop_chr, CharFrontend)

#define DEFINE_PROP_UINT8(_n, _s, _f, _d)                       \
    DEFINE_PROP_UNSIGNED(_n, _s, _f, _d, qdev_prop_uint8, uint8_t)
#define DEFINE_PROP_UINT16(_n, _s, _f, _d)                      \
    DEFINE_PROP_UNSIGNED(_n, _s, _f, _d, qdev_prop_uint16, uint16_t)
#define DEFINE_PROP_UINT32(_n, _s, _f, _d)                      \
    DEFINE_PROP_UNSIGNED(_n, _s, _f, _d, qdev_prop_uint32, uint32_t)
#define DEFINE_PROP_UINT64(_n, _s, _f, _d)                      \
    DEFINE_PROP_UNSIGNED(_n, _s, _f, _d, qdev_prop_uint64, uint64_t)
#define DEFINE_PROP_SIZE(_n, _s, _f, _d)                       \
    DEFINE_PROP_UNSIGNED(_n, _s, _f, _d, qdev_prop_size, uint64_t)

/*
 * DEFINE_PROP_ARRAY: a list property.  Setting it stores the length in
 * @_field and a g_malloc'd array of @_arraytype in @_arrayfield; freeing
 * that array is the device's job (instance_finalize).
 */
#define DEFINE_PROP_ARRAY(_name, _state, _field,                        \
                          _arrayfield, _arrayprop, _arraytype)          \
    DEFINE_PROP(_name, _state, _field, qdev_prop_array, uint32_t,       \
                .set_default = true,                                    \
                .defval.u = 0,                                          \
                .arrayinfo = &(_arrayprop),                             \
                .arrayfieldsize = sizeof(_arraytype),                   \
                .arrayoffset = offsetof(_state, _arrayfield))

void device_class_set_props_n(DeviceClass *dc, const Property *props, size_t n);

/* device_class_set_props: add the static array @props to @dc. */
#define device_class_set_props(dc, props) \
    device_class_set_props_n((dc), (props), ARRAY_SIZE(props))

#endif /* QEMU_QDEV_PROPERTIES_H */
