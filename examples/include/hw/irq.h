/*
 * Interrupt lines (lifecheck examples tree)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_IRQ_H
#define QEMU_IRQ_H

typedef void (*qemu_irq_handler)(void *opaque, int n, int level);

void qemu_set_irq(qemu_irq irq, int level);

/*
 * qemu_allocate_irq: a heap-allocated interrupt line calling @handler.
 * The caller owns it: release it with qemu_free_irq().  Devices prefer
 * qdev_init_gpio_in(), whose lines the device owns.
 */
qemu_irq qemu_allocate_irq(qemu_irq_handler handler, void *opaque, int n);
void qemu_free_irq(qemu_irq irq);

static inline void qemu_irq_raise(qemu_irq irq)
{
    qemu_set_irq(irq, 1);
}

static inline void qemu_irq_lower(qemu_irq irq)
{
    qemu_set_irq(irq, 0);
}

#endif /* QEMU_IRQ_H */
