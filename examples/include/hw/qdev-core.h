/*
 * Device model core (lifecheck examples tree)
 *
 * A device's life: instance_init (TypeInfo) -> realize -> unrealize ->
 * instance_finalize (TypeInfo).  realize and unrealize are DeviceClass
 * hooks; bus device classes (PCIDeviceClass, VirtioDeviceClass,
 * USBDeviceClass) have their own, which their DeviceClass hooks call.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QDEV_CORE_H
#define QDEV_CORE_H

#include "qemu/bitmap.h"
#include "qom/object.h"

#define TYPE_DEVICE "device"
OBJECT_DECLARE_TYPE(DeviceState, DeviceClass, DEVICE)

typedef enum DeviceCategory {
    DEVICE_CATEGORY_BRIDGE,
    DEVICE_CATEGORY_USB,
    DEVICE_CATEGORY_STORAGE,
    DEVICE_CATEGORY_NETWORK,
    DEVICE_CATEGORY_INPUT,
    DEVICE_CATEGORY_DISPLAY,
    DEVICE_CATEGORY_SOUND,
    DEVICE_CATEGORY_MISC,
    DEVICE_CATEGORY_CPU,
    DEVICE_CATEGORY_WATCHDOG,
    DEVICE_CATEGORY_MAX
} DeviceCategory;

typedef void (*DeviceRealize)(DeviceState *dev, Error **errp);
typedef void (*DeviceUnrealize)(DeviceState *dev);
typedef void (*DeviceReset)(DeviceState *dev);

/**
 * struct DeviceClass - the base class for all devices
 * @realize: make the device usable; may fail, setting errp
 * @unrealize: undo realize, isolating the device from the guest
 * @hotpluggable: whether the device can be plugged and unplugged at run time
 * @user_creatable: whether -device / device_add may create it
 */
struct DeviceClass {
    /* private: */
    ObjectClass parent_class;

    /* public: */

    DECLARE_BITMAP(categories, DEVICE_CATEGORY_MAX);
    const char *fw_name;
    const char *desc;

    const Property *props_;
    uint16_t props_count_;

    bool user_creatable;
    bool hotpluggable;

    /* callbacks */
    DeviceReset legacy_reset;
    DeviceRealize realize;
    DeviceUnrealize unrealize;

    const VMStateDescription *vmsd;

    const char *bus_type;
};

struct DeviceState {
    /* private: */
    Object parent_obj;
    /* public: */

    char *id;
    bool realized;
    int hotplugged;
    BusState *parent_bus;
};

struct BusState {
    /* private: */
    Object obj;
    /* public: */
    DeviceState *parent;
    char *name;
};

DeviceState *qdev_new(const char *name);
bool qdev_realize(DeviceState *dev, BusState *bus, Error **errp);
BusState *qdev_get_parent_bus(const DeviceState *dev);
void qdev_unrealize(DeviceState *dev);

/*
 * qdev_get_machine: the machine object ("/machine"), which lives until
 * QEMU exits.
 */
Object *qdev_get_machine(void);

/*
 * qdev_prop_allow_set_link_before_realize: link check that refuses to set
 * a link once the device is realized.
 */
void qdev_prop_allow_set_link_before_realize(const Object *obj, const char *name,
                                             Object *val, Error **errp);

/*
 * device_class_set_parent_realize: make @dev_realize the class's realize
 * hook, saving the parent class's hook in @parent_realize so that
 * @dev_realize can chain to it.
 */
void device_class_set_parent_realize(DeviceClass *dc,
                                     DeviceRealize dev_realize,
                                     DeviceRealize *parent_realize);

/* device_class_set_parent_unrealize: the same, for unrealize. */
void device_class_set_parent_unrealize(DeviceClass *dc,
                                       DeviceUnrealize dev_unrealize,
                                       DeviceUnrealize *parent_unrealize);

void device_class_set_legacy_reset(DeviceClass *dc,
                                   DeviceReset dev_reset);

#endif /* QDEV_CORE_H */
