"""Function summaries (issue 16): what helpers return, and helpers whose own
error exits leak, on small device snippets: check(code) == {(slug, line)}."""
from __future__ import annotations

from test_rules import line_of
from test_rules_lifetime import EMPTY_FINALIZE, EMPTY_INIT, dev

RING = """
typedef struct Ring { QEMUTimer *flush; uint32_t *slots; } Ring;
static Ring *foo_ring_new(FooState *s)
{
    Ring *r = g_new0(Ring, 1);
    r->slots = g_new0(uint32_t, 8);
    r->flush = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s);
    return r;
}
"""


def _ring_device(free_body: str) -> str:
    return dev(EMPTY_INIT + EMPTY_FINALIZE + RING + """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    s->sub = (Sub *)foo_ring_new(s); /* HERE */
}
static void foo_exit(PCIDevice *pdev)
{
    FooState *s = FOO(pdev);
    Ring *r = (Ring *)s->sub;
%s
}
""" % free_body)


def test_what_a_helper_returns_is_the_devices_at_the_call(check_snippet):
    code = _ring_device("    g_free(r->slots);\n    g_free(r);")
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}
    fixed = _ring_device("    timer_free(r->flush);\n    g_free(r->slots);\n    g_free(r);")
    assert check_snippet(fixed) == set()


def test_a_returned_call_and_a_helper_of_a_helper(check_snippet):
    code = dev(EMPTY_INIT + EMPTY_FINALIZE + """
static QEMUTimer *foo_timer_new(void *opaque)
{
    return timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, opaque);
}
static QEMUTimer *foo_timer_new_checked(void *opaque)
{
    QEMUTimer *t = foo_timer_new(opaque);
    return t;
}
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    s->t = foo_timer_new(s);
    s->u = foo_timer_new_checked(s); /* HERE */
}
static void foo_exit(PCIDevice *pdev)
{
    timer_free(FOO(pdev)->t);
}
""")
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}


def test_what_a_helper_frees_or_keeps_itself_is_not_returned(check_snippet):
    code = dev(EMPTY_INIT + EMPTY_FINALIZE + """
static void foo_drop(uint32_t *q)
{
    g_free(q);
}
static uint32_t *foo_scratch(FooState *s)
{
    uint32_t *p = g_new0(uint32_t, 4);
    uint32_t *q = g_new0(uint32_t, 4);
    g_free(p);
    foo_drop(q);
    return p;
}
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    s->arr = foo_scratch(s);
}
static void foo_exit(PCIDevice *pdev)
{
}
""")
    assert check_snippet(code) == set()


def test_a_helpers_error_exit_that_leaks_is_the_callers_leak(check_snippet):
    code = dev(EMPTY_INIT + """
static bool foo_start(FooState *s, Error **errp)
{
    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s); /* LEAKS */
    if (s->n > 4) {
        error_setg(errp, "too many");
        return false;
    }
    return true;
}
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    if (!foo_start(s, errp)) {
        return;
    }
}
static void foo_exit(PCIDevice *pdev)
{
    timer_free(FOO(pdev)->t);
}
""" + EMPTY_FINALIZE)
    assert check_snippet(code) == {("realize-error-leak", line_of(code, "/* LEAKS */"))}
    # the helper undoes its own work: realize's early return leaks nothing
    fixed = code.replace('error_setg(errp, "too many");', 'error_setg(errp, "too many"); timer_free(s->t);')
    assert check_snippet(fixed) == set()
    # or realize releases it on the helper's failure
    caller = code.replace("if (!foo_start(s, errp)) {", "if (!foo_start(s, errp)) { timer_free(s->t);")
    assert check_snippet(caller) == set()


def test_a_release_a_helper_makes_on_its_error_exit_does_not_release_on_success(check_snippet):
    code = dev(EMPTY_INIT + """
static bool foo_start(FooState *s, Error **errp)
{
    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s); /* LEAKS */
    if (s->n > 4) {
        error_setg(errp, "too many");
        timer_free(s->t);
        return false;
    }
    return true;
}
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    if (!foo_start(s, errp)) {
        return;
    }
    if (!foo_setup(s, errp)) {
        return;
    }
}
static void foo_exit(PCIDevice *pdev)
{
    timer_free(FOO(pdev)->t);
}
""" + EMPTY_FINALIZE)
    assert check_snippet(code) == {("realize-error-leak", line_of(code, "/* LEAKS */"))}
    # a cleanup that tests the resource itself frees it wherever it was made
    fixed = code.replace("if (!foo_setup(s, errp)) {",
                         "if (!foo_setup(s, errp)) {\n        if (s->t) {\n            timer_free(s->t);\n        }")
    assert check_snippet(fixed) == set()


def test_a_helper_exit_that_returns_a_status_it_did_not_make_is_no_failure(check_snippet):
    code = dev(EMPTY_INIT + """
static int foo_start(FooState *s, Error **errp)
{
    int ret = 0;
    s->t = timer_new_ns(QEMU_CLOCK_VIRTUAL, foo_tick, s);
    if (s->n > 4) {
        error_setg(errp, "too many");
        goto out;
    }
out:
    return !ret;
}
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    if (!foo_start(s, errp)) {
        return;
    }
}
static void foo_exit(PCIDevice *pdev)
{
    timer_free(FOO(pdev)->t);
}
""" + EMPTY_FINALIZE)
    assert check_snippet(code) == set()


# -- out-parameters: what a helper leaves in *param (issue 16) ---------------

INFO_GET = """
static int foo_info_get(FooState *s, int index, Sub **info)
{
    *info = g_new0(Sub, 1);
    (*info)->x = index;
    if (s->n < (uint32_t)index) {
        g_free(*info);
        *info = NULL;
        return -1;
    }
    return 0;
}
/* like vfio_get_dev_region_info(): tries each index, frees what did not match */
static int foo_info_find(FooState *s, int wanted, Sub **info)
{
    int i;

    for (i = 0; i < 8; i++) {
        if (foo_info_get(s, i, info)) {
            continue;
        }
        if ((*info)->x == wanted) {
            return 0;
        }
        g_free(*info);
    }
    *info = NULL;
    return -2;
}
"""


def _info_device(realize_body: str, exit_body: str) -> str:
    return dev(EMPTY_INIT + EMPTY_FINALIZE + INFO_GET + """
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
%s
}
static void foo_exit(PCIDevice *pdev)
{
    FooState *s = FOO(pdev);
%s
}
""" % (realize_body, exit_body))


def test_what_a_helper_leaves_in_an_out_parameter_is_acquired_at_the_call(check_snippet):
    code = _info_device("    if (foo_info_find(s, 3, &s->sub) < 0) { /* HERE */\n        return;\n    }",
                        "    (void)s;")
    # the frees in the helper's loop and failing exit are its own business
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}
    fixed = _info_device("    if (foo_info_find(s, 3, &s->sub) < 0) {\n        return;\n    }",
                         "    g_free(s->sub);")
    assert check_snippet(fixed) == set()


def test_an_out_parameter_filled_through_a_local(check_snippet):
    code = dev(EMPTY_INIT + EMPTY_FINALIZE + """
static bool foo_sub_new(FooState *s, Sub **out, Error **errp)
{
    Sub *sub = g_new0(Sub, 1);

    sub->x = s->n;
    *out = sub;
    return true;
}
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    foo_sub_new(s, &s->sub, errp); /* HERE */
}
static void foo_exit(PCIDevice *pdev)
{
}
""")
    assert check_snippet(code) == {("leak-on-unrealize", line_of(code, "/* HERE */"))}


def test_a_failing_helper_leaves_nothing_and_a_g_autofree_temporary_is_not_the_devices(check_snippet):
    code = _info_device("""    g_autofree Sub *tmp = NULL;

    if (foo_info_get(s, 1, &tmp) < 0) {
        error_setg(errp, "foo: no info");
        return;
    }
    if (foo_info_get(s, 2, &s->sub) < 0) {
        error_setg(errp, "foo: no info");
        return;
    }""", "    g_free(s->sub);")
    assert check_snippet(code) == set()


# -- what a callee reaches through its parameters (use-after-release) --------

def _walker_device(exit_body: str, walk_body: str) -> str:
    return dev(EMPTY_INIT + EMPTY_FINALIZE + """
static void foo_walk(FooState *s)
{
%s
}
static void foo_realize(PCIDevice *pdev, Error **errp)
{
    FooState *s = FOO(pdev);
    s->arr = g_new0(uint32_t, 8);
}
static void foo_exit(PCIDevice *pdev)
{
    FooState *s = FOO(pdev);
%s
}
""" % (walk_body, exit_body))


def test_a_callee_that_walks_freed_memory_uses_it(check_snippet):
    code = _walker_device("    g_free(s->arr);\n    foo_walk(s); /* HERE */",
                          "    uint32_t i;\n    for (i = 0; i < 8; i++) {\n        s->arr[i] = 0;\n    }")
    assert check_snippet(code) == {("use-after-release", line_of(code, "/* HERE */"))}
    fixed = _walker_device("    foo_walk(s);\n    g_free(s->arr);",
                           "    uint32_t i;\n    for (i = 0; i < 8; i++) {\n        s->arr[i] = 0;\n    }")
    assert check_snippet(fixed) == set()


def test_a_callee_that_only_reads_the_pointer_does_not(check_snippet):
    code = _walker_device("    g_free(s->arr);\n    foo_walk(s);", "    s->n = s->arr != NULL;")
    assert check_snippet(code) == set()


# -- answers that do not depend on the order of the questions ----------------

from pathlib import Path  # noqa: E402

from lifecheck.facts import Facts  # noqa: E402
from lifecheck.facts.summary import MAX_READ_DEPTH  # noqa: E402
from lifecheck.frontend.unit import model_from_preprocessed  # noqa: E402
from lifecheck.graph import Program  # noqa: E402


def _chain(n: int) -> str:
    """f0(s) reads s->r0 and calls f1(s), ... f{n-1}(s) reads s->r{n-1}."""
    out = ['# 1 "/t/hw/misc/chain.c"',
           "typedef struct S { int " + ", ".join(f"r{i}" for i in range(n)) + "; } S;"]
    out += [f"void f{i}(S *s);" for i in range(n)]
    for i in range(n):
        call = f" f{i + 1}(s);" if i + 1 < n else ""
        out.append(f"void f{i}(S *s) {{ s->r{i} = 1;{call} }}")
    return "\n".join(out) + "\n"


def _reads(catalog, order):
    unit = model_from_preprocessed("hw/misc/chain.c", Path("/t/hw/misc/chain.c"), _chain(MAX_READ_DEPTH + 4))
    program = Program([unit], catalog.tables)
    summaries = Facts(program, catalog.families.values(), catalog.tables).summaries
    return {name: sorted(summaries.reads_of(("hw/misc/chain.c", name))) for name in order}


def test_what_a_function_reads_does_not_depend_on_who_asked_first(catalog):
    # f0 reads through f1, f2, ... MAX_READ_DEPTH calls deep; asked first,
    # it asks f2 at depth 2, where f2's own callees are cut earlier than
    # when f2 is asked on its own
    top_first = _reads(catalog, ["f0", "f2"])
    alone = _reads(catalog, ["f2", "f0"])
    assert top_first == alone
    assert alone["f2"] == [f"param:0.r{i}" for i in range(2, 2 + MAX_READ_DEPTH + 1)]
    assert alone["f0"] == [f"param:0.r{i}" for i in range(MAX_READ_DEPTH + 1)]


def test_one_acquisition_left_at_two_exits_is_reported_in_one_order():
    # the same g_malloc reached through two helpers leaks at two exits:
    # the dataflow answers in the order of a set of ops (hashed by
    # identity: memory addresses), the rule reports the first answer for
    # a place and resource, so the answers are put in a total order
    from lifecheck.facts.api import Op
    from lifecheck.graph import Event
    from lifecheck.model import AccessPath, CallSite, Location
    from lifecheck.rules.kinds.error_path_leak import _leak_order

    site = CallSite(callee="g_malloc", args=(), loc=Location("hw/a.c", 5, 9), result=None)
    path = AccessPath("self", (("->", "buf"),))

    def op(frames):
        return Op("acquire", "heap", path, Event("realize", site, ("hw/a.c", "h"), (), path, (), frames))

    via_h1 = op(((("hw/a.c", "realize"), 1), (("hw/a.c", "h1"), 0)))
    via_h2 = op(((("hw/a.c", "realize"), 2), (("hw/a.c", "h2"), 0)))
    answers = [(("heap", "self.buf", via_h2), 30), (("heap", "self.buf", via_h1), 30),
               (("heap", "self.buf", via_h1), 12)]
    for given in (answers, answers[::-1]):
        assert [(kv[0][2], kv[1]) for kv in sorted(given, key=_leak_order)] == [
            (via_h1, 12), (via_h1, 30), (via_h2, 30)]
