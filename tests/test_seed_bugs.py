"""The seeded-bug harness (scripts/seed_bugs.py) on a copy of examples/.

Each mutation operator must find sites on the example devices, a seeded
bug of a class lifecheck knows must be scored "found" (with the rule and
line of the finding), and the unmutated file must be silent about it.
One extra device, written here, has the realize error exits that the
examples lack.
"""
from __future__ import annotations

import importlib.util
import shutil
import sys

import pytest

from conftest import EXAMPLES, REPO


def _load():
    spec = importlib.util.spec_from_file_location("seed_bugs", REPO / "scripts" / "seed_bugs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["seed_bugs"] = module   # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


sb = _load()

# realize acquires a timer and a buffer, and a failed check jumps to a
# cleanup ladder that frees both (lines matter: the tests name them)
ERROR_EXIT_DEVICE = """\
/* A device whose realize undoes its work on an error exit (tests/test_seed_bugs.py) */
#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "qemu/module.h"
#include "qom/object.h"

#define TYPE_SEED_ERREXIT "seed-errexit"
OBJECT_DECLARE_SIMPLE_TYPE(SeedErrexitState, SEED_ERREXIT)

struct SeedErrexitState {
    PCIDevice parent_obj;
    QEMUTimer *tick;
    uint8_t *buf;
    uint32_t size;
};

static void seed_errexit_tick(void *opaque)
{
}

static bool seed_errexit_check(SeedErrexitState *s, Error **errp)
{
    if (s->size == 0) {
        error_setg(errp, "size must not be zero");
        return false;
    }
    return true;
}

static void seed_errexit_realize(PCIDevice *pdev, Error **errp)
{
    SeedErrexitState *s = SEED_ERREXIT(pdev);

    s->tick = timer_new_ms(QEMU_CLOCK_VIRTUAL, seed_errexit_tick, s);
    s->buf = g_malloc0(64);
    if (!seed_errexit_check(s, errp)) {
        goto fail;
    }
    return;

fail:
    g_free(s->buf);
    timer_free(s->tick);
}

static void seed_errexit_exit(PCIDevice *pdev)
{
    SeedErrexitState *s = SEED_ERREXIT(pdev);

    timer_free(s->tick);
    g_free(s->buf);
}

static void seed_errexit_class_init(ObjectClass *klass, const void *data)
{
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = seed_errexit_realize;
    k->exit = seed_errexit_exit;
}

static const TypeInfo seed_errexit_info = {
    .name          = TYPE_SEED_ERREXIT,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(SeedErrexitState),
    .class_init    = seed_errexit_class_init,
};

static void seed_errexit_register_types(void)
{
    type_register_static(&seed_errexit_info);
}

type_init(seed_errexit_register_types)
"""
ERREXIT = "hw/misc/seed-errexit.c"
WATCHDOG = "hw/misc/pci-watchdog.c"
DBGWIN = "hw/usb/dev-dbgwin.c"


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("seed") / "tree"
    shutil.copytree(EXAMPLES, root)
    (root / ERREXIT).write_text(ERROR_EXIT_DEVICE)
    return root


@pytest.fixture(scope="module")
def base(tree):
    return sb.prepare(tree, ["hw"], jobs=1, progress=False, use_cache=False)


@pytest.fixture(scope="module")
def mutants(base):
    """operator -> mutants, over every candidate file."""
    out = {op: [] for op in sb.OPERATORS}
    for rel in sb.candidate_files(base.program, base.units):
        text = (base.tree.root / rel).read_text()
        found, _ = sb.find_mutants(sb.FileModel(base.program, base.catalog, base.tree.version, rel, text))
        for m in found:
            out[m.operator].append(m)
    return out


@pytest.fixture(scope="module")
def scored(base, tmp_path_factory):
    """(file, line, operator, resource) -> scored mutant, for two files."""
    mutator = sb.Mutator(base.tree.root, tmp_path_factory.mktemp("work"))
    out = {}
    for rel in (WATCHDOG, ERREXIT, DBGWIN):
        result = sb.run_file(base, rel, sb.OPERATORS, mutator)
        for m in result.mutants:
            out[(m.file, m.line, m.operator, m.resource)] = m
    return out


def sites(ms):
    return {(m.file, m.line, m.resource) for m in ms}


def test_every_operator_finds_sites_on_the_examples(mutants):
    assert (WATCHDOG, 94, "self.bark") in sites(mutants["delete-release"])       # timer_free() in exit
    assert (ERREXIT, 44, "self.buf") in sites(mutants["drop-error-release"])     # g_free() after fail:
    assert (ERREXIT, 45, "self.tick") in sites(mutants["drop-error-release"])
    assert (WATCHDOG, 82, "self.bark") in sites(mutants["move-acquire-to-init"])  # timer_new_ms() in realize
    assert (WATCHDOG, 102, "self.stats") in sites(mutants["free-in-unrealize"])  # g_free() in finalize
    assert (DBGWIN, 146, "self.doorbell") in sites(mutants["free-in-unrealize"])  # object_unparent()
    assert (WATCHDOG, 94, "self.bark") in sites(mutants["duplicate-release"])
    for op in sb.OPERATORS:
        assert mutants[op], op


def test_sites_that_are_not_bugs_are_skipped(base):
    text = (base.tree.root / "hw/misc/pci-beacon.c").read_text()
    found, skipped = sb.find_mutants(sb.FileModel(base.program, base.catalog, base.tree.version,
                                                  "hw/misc/pci-beacon.c", text))
    why = {(s.operator, s.line): s.reason for s in skipped}
    # pulse is freed in exit and again in instance_finalize: deleting one is no leak
    assert why[("delete-release", 69)] == "also released at line 78 (timer_free)"
    # sweep is cleared after its release: a second release sees NULL
    assert why[("duplicate-release", 70)].startswith("teardown clears the field")
    # timer_del() only stops a heap timer
    assert why[("delete-release", 68)].startswith("acquired as timer:")
    assert ("delete-release", 67, "self.blink") in {(m.operator, m.line, m.resource) for m in found}


def test_mutants_keep_every_other_line_in_place(base, mutants):
    for ms in mutants.values():
        for m in ms:
            text = (base.tree.root / m.file).read_text()
            assert sb.apply_edits(text, m.edits).count("\n") == text.count("\n"), m.name


def test_the_edits_are_the_ones_described(base, mutants):
    text = (base.tree.root / WATCHDOG).read_text()
    [move] = [m for m in mutants["move-acquire-to-init"] if (m.file, m.line) == (WATCHDOG, 82)]
    lines = sb.apply_edits(text, move.edits).splitlines()
    assert lines[81] == "    ; /* lifecheck: expect[realize-error-leak] */"   # gone from realize
    # pci-watchdog has no instance_init: one is made before its TypeInfo
    assert lines[122].startswith("static void lifecheck_seed_instance_init(Object *obj) { "
                                 "PCIWatchdogState *s = (PCIWatchdogState *)obj; "
                                 "s->bark = timer_new_ms(QEMU_CLOCK_VIRTUAL, pci_watchdog_bark, s); } "
                                 "static const TypeInfo pci_watchdog_info = { "
                                 ".instance_init = lifecheck_seed_instance_init,")
    [dup] = [m for m in mutants["duplicate-release"] if (m.file, m.line) == (WATCHDOG, 94)]
    lines = sb.apply_edits(text, dup.edits).splitlines()
    assert lines[102] == "{ PCIWatchdogState *s = (PCIWatchdogState *)obj; timer_free(s->bark); } }"


@pytest.mark.parametrize("key, rule, line", [
    # the acquisition in realize, now released nowhere
    ((WATCHDOG, 94, "delete-release", "self.bark"), "leak-on-unrealize", 82),
    # the error exit no longer frees what realize made before the check
    ((ERREXIT, 44, "drop-error-release", "self.buf"), "realize-error-leak", 37),
    ((ERREXIT, 45, "drop-error-release", "self.tick"), "realize-error-leak", 36),
    # moved into the instance_init made just before the TypeInfo
    ((WATCHDOG, 82, "move-acquire-to-init", "self.bark"), "init-leak", 123),
    # freed again at the end of instance_finalize
    ((WATCHDOG, 94, "duplicate-release", "self.bark"), "double-release", 103),
    # an I/O region destroyed in unrealize
    ((DBGWIN, 146, "free-in-unrealize", "self.doorbell"), "freed-in-unrealize", 139),
])
def test_seeded_bugs_of_known_classes_are_found(scored, key, rule, line):
    m = scored[key]
    assert m.outcome == "found", (m.outcome, m.detail)
    assert m.detail == f"{rule} at {key[0]}:{line}"


def test_the_unmutated_file_is_silent_about_each_found_bug(base, scored):
    for (rel, *_), m in scored.items():
        if m.outcome != "found":
            continue
        before = sb.findings_of_file(base.program, base.catalog, base.tree.version, rel, base.units[rel])
        assert sb.matching(m, before) == [], m.name


def test_the_reduced_program_agrees_with_the_whole_one(base):
    for rel in (WATCHDOG, ERREXIT, DBGWIN, "hw/char/uart-lite.c"):
        whole = sb.findings_of_file(base.program, base.catalog, base.tree.version, rel, base.units[rel])
        part = sb.findings_of_file(base.program_for(rel), base.catalog, base.tree.version, rel, base.units[rel])
        assert whole == part, rel
        assert whole or rel == ERREXIT, rel


def _mutant(resource, expected=("leak-on-unrealize",), **kw):
    fields = dict(operator="delete-release", file="hw/x.c", line=1, resource=resource, family="timer",
                  call="timer_free", hook="unrealize", hook_function="x_exit", function="x_exit",
                  devices=("x",), expected=expected)
    fields.update(kw)
    return sb.Mutant(**fields)


def test_scoring():
    found = sb.Seen("leak-on-unrealize", "self->t", "x_realize", "hw/x.c", 5,
                    "self.t (a timer) is acquired with timer_new_ns() ...")
    other_field = sb.Seen("leak-on-unrealize", "self.t2", "x_realize", "hw/x.c", 6, "")
    other_rule = sb.Seen("init-leak", "self.t", "x_init", "hw/x.c", 7, "")
    m = _mutant("self.t")
    assert sb.score(m, [], [found]) == ("found", "leak-on-unrealize at hw/x.c:5")
    assert sb.score(m, [], [other_field, other_rule]) == ("missed", "")
    assert sb.score(m, [found], [found])[0] == "not-scorable"
    assert sb.score(m, [], None) == ("broken", "")
    # a resource without a field is matched together with its family's calls
    bare = _mutant("self", family_calls=("virtio_cleanup", "virtio_init"))
    virtio = sb.Seen("leak-on-unrealize", "self", "x_realize", "hw/x.c", 8, "self (...) is acquired with virtio_init() ...")
    msix = sb.Seen("leak-on-unrealize", "self", "x_realize", "hw/x.c", 9, "self (...) is acquired with msix_init() ...")
    assert sb.matching(bare, [msix, virtio]) == [virtio]
    # a local is matched in its own function only
    local = _mutant("dev", local=True, function="x_realize", expected=("realize-error-leak",))
    elsewhere = sb.Seen("realize-error-leak", "dev", "y_realize", "hw/x.c", 10, "")
    here = sb.Seen("realize-error-leak", "dev", "x_realize", "hw/x.c", 11, "")
    assert sb.matching(local, [elsewhere, here]) == [here]
    # the links of a list name its elements, as lifecheck's list_key has it
    assert sb.norm_resource("self.cfg_list.tqh_first") == sb.norm_resource("&self->cfg_list.tqh_circ.tql_prev->tql_next") \
        == "self.cfg_list{}"
    assert sb.norm_resource("self.l.tqh_first->bufs.tqh_first->buf") == "self.l{}.bufs{}.buf"
    assert sb.norm_resource("self.l.tqh_first") != sb.norm_resource("self.m.tqh_first")


def test_a_mutant_that_does_not_parse_is_broken(base, tmp_path):
    mutator = sb.Mutator(base.tree.root, tmp_path)
    text = (base.tree.root / WATCHDOG).read_text()
    good = mutator.analyse(WATCHDOG, text)
    assert sb.parses(base.units[WATCHDOG], good)
    bad = mutator.analyse(WATCHDOG, text.replace("timer_free(s->bark);", "timer_free(s->bark;", 1))
    assert not sb.parses(base.units[WATCHDOG], bad)
    # the copy is a copy: the tree itself is untouched
    assert (base.tree.root / WATCHDOG).read_text() == text


def test_the_table_counts_outcomes():
    ms = [_mutant("self.a", outcome="found"), _mutant("self.b", outcome="missed"),
          _mutant("self.c", outcome="not-scorable"), _mutant("self.d", outcome="broken")]
    result = sb.FileResult("hw/x.c", ms, [sb.Skipped("delete-release", "hw/x.c", 3, "self.e", "why")])
    row = [line for line in sb.table([result], ["delete-release"]).splitlines() if line.startswith("| delete")]
    assert [c.strip() for c in row[0].strip("|").split("|")] == ["delete-release", "4", "1", "1", "2", "1", "50", "1"]
    assert sb.misses([result]) == ["hw/x.c:1 delete-release self.b (timer_free, timer) in unrealize: x_exit()",
                                   "hw/x.c:1 delete-release self.d (timer_free, timer) in unrealize: x_exit() "
                                   "[broken: ]"]
