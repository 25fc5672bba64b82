/*
 * USB devices (lifecheck examples tree)
 *
 * USB devices can be hot-unplugged: USBDeviceClass.unrealize then runs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_USB_H
#define QEMU_USB_H

#include "hw/qdev-core.h"

#define USB_SPEED_LOW   0
#define USB_SPEED_FULL  1
#define USB_SPEED_HIGH  2

#define USB_RET_SUCCESS           (0)
#define USB_RET_NODEV             (-1)
#define USB_RET_NAK               (-2)
#define USB_RET_STALL             (-3)

#define USB_TOKEN_SETUP 0x2d
#define USB_TOKEN_IN    0x69 /* device -> host */
#define USB_TOKEN_OUT   0xe1 /* host -> device */

typedef struct USBPacket USBPacket;

struct USBPacket {
    int pid;
    int ep_nr;
    int status;
    int actual_length;
};

struct USBDevice {
    DeviceState qdev;
    char *port_path;
    char *serial;
    int speed;
    uint8_t addr;
    char product_desc[32];
};

#define TYPE_USB_DEVICE "usb-device"
OBJECT_DECLARE_TYPE(USBDevice, USBDeviceClass, USB_DEVICE)

typedef void (*USBDeviceRealize)(USBDevice *dev, Error **errp);
typedef void (*USBDeviceUnrealize)(USBDevice *dev);

struct USBDeviceClass {
    DeviceClass parent_class;

    USBDeviceRealize realize;
    USBDeviceUnrealize unrealize;

    /*
     * Reset the device
     */
    void (*handle_reset)(USBDevice *dev);

    /*
     * Process control request.
     * Called from handle_packet().
     *
     * Status gets stored in p->status, and if p->status == USB_RET_SUCCESS
     * then the number of bytes transferred is stored in p->actual_length
     */
    void (*handle_control)(USBDevice *dev, USBPacket *p, int request,
                           int value, int index, int length, uint8_t *data);

    /*
     * Process data transfers (both BULK and ISOC).
     * Called from handle_packet().
     */
    void (*handle_data)(USBDevice *dev, USBPacket *p);

    const char *product_desc;
};

#endif /* QEMU_USB_H */
