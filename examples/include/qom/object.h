/*
 * QEMU Object Model (lifecheck examples tree)
 *
 * The subset of QOM the example devices use: objects and classes, type
 * registration, the checked cast macros and the declaration helpers that
 * generate them, and the calls that manage an object's life.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_OBJECT_H
#define QEMU_OBJECT_H

#include "qemu/module.h"

typedef struct TypeImpl *Type;
typedef struct TypeInfo TypeInfo;
typedef struct InterfaceInfo InterfaceInfo;

#define TYPE_OBJECT "object"
#define TYPE_INTERFACE "interface"

struct ObjectClass
{
    /* private: */
    Type type;
};

struct Object
{
    /* private: */
    ObjectClass *class;
    uint32_t ref;
    Object *parent;
};

/*
 * DECLARE_INSTANCE_CHECKER, DECLARE_CLASS_CHECKERS, DECLARE_OBJ_CHECKERS:
 * the type cast functions of a QOM type.  Prefer OBJECT_DECLARE_TYPE or
 * OBJECT_DECLARE_SIMPLE_TYPE, which use them.
 */
#define DECLARE_INSTANCE_CHECKER(InstanceType, OBJ_NAME, TYPENAME) \
    static inline G_GNUC_UNUSED InstanceType * \
    OBJ_NAME(const void *obj) \
    { return OBJECT_CHECK(InstanceType, obj, TYPENAME); }

#define DECLARE_CLASS_CHECKERS(ClassType, OBJ_NAME, TYPENAME) \
    static inline G_GNUC_UNUSED ClassType * \
    OBJ_NAME##_GET_CLASS(const void *obj) \
    { return OBJECT_GET_CLASS(ClassType, obj, TYPENAME); } \
    \
    static inline G_GNUC_UNUSED ClassType * \
    OBJ_NAME##_CLASS(const void *klass) \
    { return OBJECT_CLASS_CHECK(ClassType, klass, TYPENAME); }

#define DECLARE_OBJ_CHECKERS(InstanceType, ClassType, OBJ_NAME, TYPENAME) \
    DECLARE_INSTANCE_CHECKER(InstanceType, OBJ_NAME, TYPENAME) \
    \
    DECLARE_CLASS_CHECKERS(ClassType, OBJ_NAME, TYPENAME)

/*
 * OBJECT_DECLARE_TYPE: typedefs for the instance and class structs, and
 * the three cast functions MODULE_OBJ_NAME(), MODULE_OBJ_NAME_GET_CLASS()
 * and MODULE_OBJ_NAME_CLASS().  The structs are declared by the caller.
 */
#define OBJECT_DECLARE_TYPE(InstanceType, ClassType, MODULE_OBJ_NAME) \
    typedef struct InstanceType InstanceType; \
    typedef struct ClassType ClassType; \
    \
    G_DEFINE_AUTOPTR_CLEANUP_FUNC(InstanceType, object_unref) \
    \
    DECLARE_OBJ_CHECKERS(InstanceType, ClassType, \
                         MODULE_OBJ_NAME, TYPE_##MODULE_OBJ_NAME)

/*
 * OBJECT_DECLARE_SIMPLE_TYPE: the same, for a type with no class struct
 * of its own: a typedef and the instance cast function
 * MODULE_OBJ_NAME(obj), which checks against TYPE_MODULE_OBJ_NAME.
 */
#define OBJECT_DECLARE_SIMPLE_TYPE(InstanceType, MODULE_OBJ_NAME) \
    typedef struct InstanceType InstanceType; \
    \
    G_DEFINE_AUTOPTR_CLEANUP_FUNC(InstanceType, object_unref) \
    \
    DECLARE_INSTANCE_CHECKER(InstanceType, MODULE_OBJ_NAME, TYPE_##MODULE_OBJ_NAME)

struct TypeInfo
{
    const char *name;
    const char *parent;

    size_t instance_size;
    size_t instance_align;
    void (*instance_init)(Object *obj);
    void (*instance_post_init)(Object *obj);
    void (*instance_finalize)(Object *obj);

    bool abstract;
    size_t class_size;

    void (*class_init)(ObjectClass *klass, const void *data);
    void (*class_base_init)(ObjectClass *klass, const void *data);
    const void *class_data;

    const InterfaceInfo *interfaces;
};

struct InterfaceInfo {
    const char *type;
};

/* OBJECT: converts any object to an Object; always succeeds. */
#define OBJECT(obj) \
    ((Object *)(obj))

/* OBJECT_CLASS: converts any class to an ObjectClass. */
#define OBJECT_CLASS(class) \
    ((ObjectClass *)(class))

/* OBJECT_CHECK: checked cast of @obj to @type; asserts on a bad type. */
#define OBJECT_CHECK(type, obj, name) \
    ((type *)object_dynamic_cast_assert(OBJECT(obj), (name), \
                                        __FILE__, __LINE__, __func__))

/* OBJECT_CLASS_CHECK: checked cast of a class to @class_type. */
#define OBJECT_CLASS_CHECK(class_type, class, name) \
    ((class_type *)object_class_dynamic_cast_assert(OBJECT_CLASS(class), (name), \
                                               __FILE__, __LINE__, __func__))

/* OBJECT_GET_CLASS: the class of @obj, checked against @name. */
#define OBJECT_GET_CLASS(class, obj, name) \
    OBJECT_CLASS_CHECK(class, object_get_class(OBJECT(obj)), name)

Object *object_new(const char *typename);
Object *object_dynamic_cast_assert(Object *obj, const char *typename,
                                   const char *file, int line,
                                   const char *func);
ObjectClass *object_get_class(Object *obj);
const char *object_get_typename(const Object *obj);
ObjectClass *object_class_dynamic_cast_assert(ObjectClass *klass,
                                              const char *typename,
                                              const char *file, int line,
                                              const char *func);

/*
 * object_initialize_child: initialise the embedded object @child of type
 * @type and add it to @parent as the child property @propname.
 */
#define object_initialize_child(parent, propname, child, type)          \
    object_initialize_child_internal((parent), (propname),              \
                                     (child), sizeof(*(child)), (type))
void object_initialize_child_internal(Object *parent, const char *propname,
                                      void *child, size_t size,
                                      const char *type);

Object *object_ref(void *obj);
void object_unref(void *obj);

/*
 * object_unparent: remove @obj from its parent's child properties, which
 * drops the reference the parent held.
 */
void object_unparent(Object *obj);

void object_property_add_child(Object *obj, const char *name, Object *child);

/*
 * Link properties.  A strong link (OBJ_PROP_LINK_STRONG, and every qdev
 * DEFINE_PROP_LINK property) holds a reference on its target from the
 * time it is set until it is set again or its object is finalized.
 */
typedef enum {
    OBJ_PROP_LINK_STRONG = 0x1,
    OBJ_PROP_LINK_DIRECT = 0x2,
    OBJ_PROP_LINK_CLASS = 0x4,
} ObjectPropertyLinkFlags;

typedef struct ObjectProperty ObjectProperty;

void object_property_allow_set_link(const Object *obj, const char *name,
                                    Object *val, Error **errp);
ObjectProperty *object_property_add_link(Object *obj, const char *name,
                                         const char *type, Object **targetp,
                                         void (*check)(const Object *obj, const char *name,
                                                       Object *val, Error **errp),
                                         ObjectPropertyLinkFlags flags);
bool object_property_set_link(Object *obj, const char *name,
                              Object *value, Error **errp);

/*
 * object_property_add_bool: add a bool property to @obj; @set, when not
 * NULL, is called each time the property is set (-device foo,prop=...,
 * -global, qom-set), before or after realize.
 */
ObjectProperty *object_property_add_bool(Object *obj, const char *name,
                                         bool (*get)(Object *, Error **),
                                         void (*set)(Object *, bool, Error **));
ObjectProperty *object_class_property_add_bool(ObjectClass *klass, const char *name,
                                               bool (*get)(Object *, Error **),
                                               void (*set)(Object *, bool, Error **));

void type_register_static(const TypeInfo *info);
void type_register_static_array(const TypeInfo *infos, int nr_infos);

/*
 * DEFINE_TYPES: register every TypeInfo of the static array @type_array
 * at start-up.
 */
#define DEFINE_TYPES(type_array)                                            \
static void do_qemu_init_ ## type_array(void)                               \
{                                                                           \
    type_register_static_array(type_array, ARRAY_SIZE(type_array));         \
}                                                                           \
type_init(do_qemu_init_ ## type_array)

#endif /* QEMU_OBJECT_H */
