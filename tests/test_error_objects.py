"""Error objects the device keeps (rules/api/error.toml, issue 16): an
Error set into a field of the device is the device's to free; QEMU 8.2
made migrate_del_blocker() free it and a failing migrate_add_blocker()
free and clear it.  check(code) == {(slug, line)}."""
from __future__ import annotations

from test_rules import line_of

HEAD = """\
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "migration/blocker.h"
#include "qom/object.h"
typedef struct FooState { PCIDevice parent_obj; Error *blocker; Error *err; bool busy; } FooState;
#define FOO(obj) ((FooState *)(obj))
bool foo_setup(FooState *s, Error **errp);
static void foo_init(Object *obj) { }
static void foo_finalize(Object *obj) { }
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
    .class_init = foo_class_init, .instance_init = foo_init, .instance_finalize = foo_finalize,
};
"""


def dev(body: str) -> str:
    return HEAD + body + TAIL


def _blocker(realize_tail: str, exit_body: str, add: str = "migrate_add_blocker(&s->blocker, errp)") -> str:
    return dev("""
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    error_setg(&s->blocker, "foo: not migratable"); /* SET */
    if (%s < 0) {
        return; /* ADDFAIL */
    }
%s
}
static void foo_exit(PCIDevice *pdev)
{
    FooState *s = FOO(pdev);
%s
}
""" % (add, realize_tail, exit_body))


def test_migrate_del_blocker_frees_the_error_since_8_2(check_snippet):
    code = _blocker("", "    migrate_del_blocker(&s->blocker);")
    assert check_snippet(code) == set()


def test_a_failing_add_has_freed_the_error_since_8_2_not_in_7_2(check_snippet):
    code = _blocker("", "    migrate_del_blocker(&s->blocker);")
    # 7.2: the failing migrate_add_blocker() left the Error to the caller,
    # and migrate_del_blocker() does not free it
    assert check_snippet(code, version="7.2") == {
        ("realize-error-leak", line_of(code, "/* SET */")),
        ("leak-on-unrealize", line_of(code, "/* SET */"))}
    fixed = _blocker("", "    migrate_del_blocker(s->blocker);\n    error_free(s->blocker);",
                     add="migrate_add_blocker(s->blocker, errp)").replace(
        "return; /* ADDFAIL */", "error_free(s->blocker);\n        return;")
    assert check_snippet(fixed, version="7.2") == set()


def test_an_error_exit_after_the_blocker_leaks_the_error(check_snippet):
    code = _blocker("""    if (!foo_setup(s, errp)) {
        return;
    }""", "    migrate_del_blocker(&s->blocker);")
    got = check_snippet(code)
    assert ("realize-error-leak", line_of(code, "/* SET */")) in got
    fixed = _blocker("""    if (!foo_setup(s, errp)) {
        migrate_del_blocker(&s->blocker);
        return;
    }""", "    migrate_del_blocker(&s->blocker);")
    assert check_snippet(fixed) == set()


def test_an_error_kept_in_a_field_must_be_freed(check_snippet):
    code = dev("""
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    error_setg(&s->err, "foo: deferred"); /* HERE */
}
static void foo_exit(PCIDevice *pdev)
{
}
""")
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}
    for release in ("error_free(s->err);", "g_clear_pointer(&s->err, error_free);",
                    "error_report_err(s->err);"):
        fixed = code.replace("static void foo_exit(PCIDevice *pdev)\n{\n",
                             "static void foo_exit(PCIDevice *pdev)\n{\n    FooState *s = FOO(pdev);\n    %s\n" % release)
        assert check_snippet(fixed) == set(), release


def test_errors_set_into_errp_a_local_or_error_fatal_are_not_the_devices(check_snippet):
    code = dev("""
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    Error *local_err = NULL;
    if (s->busy) {
        error_setg(&error_fatal, "foo: busy");
    }
    if (!foo_setup(s, &local_err)) {
        error_setg(&local_err, "foo: setup failed");
        error_propagate(errp, local_err);
        return;
    }
    if (s->blocker) {
        error_setg(errp, "foo: blocked");
        return;
    }
}
static void foo_exit(PCIDevice *pdev)
{
}
""")
    assert check_snippet(code) == set()
