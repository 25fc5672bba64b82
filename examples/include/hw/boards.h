/*
 * Machines (boards), as the examples use them: a subset of QEMU's
 * include/hw/boards.h with the same names and shapes.
 */
#ifndef HW_BOARDS_H
#define HW_BOARDS_H

#include "qom/object.h"

#define TYPE_MACHINE "machine"

typedef struct MachineState {
    /*< private >*/
    Object parent_obj;
} MachineState;

typedef struct MachineClass {
    /*< private >*/
    ObjectClass parent_class;
    /*< public >*/
    const char *desc;
    void (*init)(MachineState *state);
} MachineClass;

#define MACHINE_CLASS(klass) ((MachineClass *)(klass))

#endif /* HW_BOARDS_H */
