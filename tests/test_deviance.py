"""deviant-error-exit and deviant-teardown on small snippets: the
function's or the device's own code says how to release a value that no
API table lists (lifecheck/facts/deviance.py)."""
from __future__ import annotations

import pytest

from test_rules import line_of

HEAD = """\
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "qom/object.h"
typedef struct Ring Ring;
Ring *ring_new(int n);
void ring_free(Ring *r);
int ring_load(Ring *r, Error **errp);
bool ring_ok(Ring *r);
int ring_peek(Ring *r);
void table_insert(void *table, Ring *r);
int take_fd(void);
void close(int fd);
typedef struct FooState { PCIDevice parent_obj; Ring *a; Ring *b; Ring *c; void *table; int fd; } FooState;
#define FOO(obj) ((FooState *)(obj))
"""

TAIL = """
static void foo_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    k->realize = foo_realize;
    k->exit = foo_exit;
}
static const TypeInfo foo_info = {
    .name = "foo", .parent = TYPE_PCI_DEVICE, .instance_size = sizeof(FooState),
    .class_init = foo_class_init,
};
"""

QUIET_HOOKS = """
static void foo_realize(PCIDevice *pdev, Error **errp) { }
static void foo_exit(PCIDevice *pdev) { }
"""


def device(body: str, hooks: str = QUIET_HOOKS) -> str:
    return HEAD + body + hooks + TAIL


def deviant(check_snippet, code):
    return {(rule, line) for rule, line in check_snippet(code) if rule.startswith("deviant-")}


def test_exit_that_forgets_what_the_others_release(check_snippet):
    code = device("""
static int load(Error **errp)
{
    Ring *r = ring_new(4); /* HERE */
    if (ring_load(r, errp) < 0) {
        ring_free(r);
        return -1;
    }
    if (!ring_ok(r)) {
        error_setg(errp, "bad");
        return -1;
    }
    ring_free(r);
    return 0;
}
""")
    assert deviant(check_snippet, code) == {("deviant-error-exit", line_of(code, "/* HERE */"))}


@pytest.mark.parametrize("why, body", [
    ("every exit releases it", """
static int load(Error **errp)
{
    Ring *r = ring_new(4);
    if (ring_load(r, errp) < 0) { ring_free(r); return -1; }
    if (!ring_ok(r)) { error_setg(errp, "bad"); ring_free(r); return -1; }
    ring_free(r);
    return 0;
}"""),
    ("no exit releases it: nothing to deviate from", """
static int load(Error **errp)
{
    Ring *r = ring_new(4);
    if (ring_load(r, errp) < 0) { return -1; }
    if (!ring_ok(r)) { error_setg(errp, "bad"); return -1; }
    ring_free(r);
    return 0;
}"""),
    ("the exit is the value's own failure check", """
static int load(Error **errp)
{
    Ring *r = ring_new(4);
    if (!r) { error_setg(errp, "no ring"); return -1; }
    if (ring_load(r, errp) < 0) { ring_free(r); return -1; }
    ring_free(r);
    return 0;
}"""),
    ("handed to an owner before the exit", """
static int load(FooState *s, Error **errp)
{
    Ring *r = ring_new(4);
    if (ring_load(r, errp) < 0) { ring_free(r); return -1; }
    table_insert(s->table, r);
    if (!ring_ok(s->a)) { error_setg(errp, "bad"); return -1; }
    return 0;
}"""),
    ("stored in the device before the exit", """
static int load(FooState *s, Error **errp)
{
    Ring *r = ring_new(4);
    if (ring_load(r, errp) < 0) { ring_free(r); return -1; }
    s->b = r;
    if (!ring_ok(s->a)) { error_setg(errp, "bad"); return -1; }
    return 0;
}"""),
    ("a value of the last iteration was kept: the exit at the top of the next one does not deviate", """
static int load(FooState *s, Error **errp)
{
    int i;
    for (i = 0; i < 4; i++) {
        Ring *r;
        if (ring_peek(s->a) < 0) { return -1; }
        r = ring_new(4);
        if (ring_load(r, errp) < 0) { ring_free(r); return -1; }
        table_insert(s->table, r);
    }
    return 0;
}"""),
])
def test_quiet(check_snippet, why, body):
    assert deviant(check_snippet, device(body)) == set(), why


def test_realize_keeps_it_in_the_device_and_finalize_does_not_release_it(check_snippet):
    hooks = """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    s->fd = take_fd(); /* HERE */
    if (ring_load(s->a, errp) < 0) {
        close(s->fd);
        return;
    }
    if (!ring_ok(s->a)) {
        error_setg(errp, "bad");
        return;
    }
}
static void foo_exit(PCIDevice *pdev) { close(FOO(pdev)->fd); }
"""
    code = device("", hooks)
    assert deviant(check_snippet, code) == {("deviant-error-exit", line_of(code, "/* HERE */"))}


def test_teardown_forgets_one_result_of_the_call(check_snippet):
    hooks = """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    s->a = ring_new(4);
    s->b = ring_new(4);
    s->c = ring_new(4); /* HERE */
}
static void foo_exit(PCIDevice *pdev)
{
    FooState *s = FOO(pdev);
    ring_free(s->a);
    ring_free(s->b);
}
"""
    code = device("", hooks)
    assert deviant(check_snippet, code) == {("deviant-teardown", line_of(code, "/* HERE */"))}


def test_teardown_that_hands_the_result_to_some_call_is_quiet(check_snippet):
    hooks = """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    s->a = ring_new(4);
    s->b = ring_new(4);
    s->c = ring_new(4);
}
static void foo_exit(PCIDevice *pdev)
{
    FooState *s = FOO(pdev);
    ring_free(s->a);
    ring_free(s->b);
    table_insert(s->table, s->c);
}
"""
    assert deviant(check_snippet, device("", hooks)) == set()
