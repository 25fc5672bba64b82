"""``lifecheck api mine``: acquire/release pairs learnt from a tree
(lifecheck/facts/mining.py), on a small QEMU-shaped tree whose six
devices use a made-up foo_widget_new()/foo_widget_free() pair, five
correctly and one not; and the name pairing on its own."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, check_tree
from lifecheck.analysis import analyse
from lifecheck.facts.mining import (ACQUIRE_KNOWN, DISARM, KNOWN, NEW, RESULT, Pairing, PairingDataError,
                                    mine, name_pairs, propose, z_statistic)
from lifecheck.frontend.tree import QemuTree
from lifecheck.report import api_pairs
from lifecheck.rules.catalog import default_rules_dir, load_catalog

HEADER = """\
#ifndef HW_MISC_FOO_WIDGET_H
#define HW_MISC_FOO_WIDGET_H
#include "hw/qdev-core.h"
typedef struct FooWidget FooWidget;
FooWidget *foo_widget_new(DeviceState *owner);
void foo_widget_free(FooWidget *w);
#endif
"""

DEVICE = """\
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/sysbus.h"
#include "hw/misc/foo-widget.h"
#include "qemu/module.h"
#include "qom/object.h"

typedef struct {Name}State {{
    SysBusDevice parent_obj;
    FooWidget *widget;
}} {Name}State;

static void {name}_realize(DeviceState *dev, Error **errp)
{{
    {Name}State *s = ({Name}State *)dev;

    s->widget = foo_widget_new(dev); /* ACQUIRE */
}}

static void {name}_unrealize(DeviceState *dev)
{{
    {Name}State *s = ({Name}State *)dev;

    {release}
}}

static void {name}_class_init(ObjectClass *klass, const void *data)
{{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = {name}_realize;
    dc->unrealize = {name}_unrealize;
}}

static const TypeInfo {name}_info = {{
    .name          = "{type}",
    .parent        = TYPE_SYS_BUS_DEVICE,
    .instance_size = sizeof({Name}State),
    .class_init    = {name}_class_init,
}};

static void {name}_register_types(void)
{{
    type_register_static(&{name}_info);
}}

type_init({name}_register_types)
"""

FOLLOWERS = ("alpha", "bravo", "charlie", "delta", "echo")
DEVIANT = "foxtrot"


def _device(name: str, release: bool) -> str:
    return DEVICE.format(name=name, Name=name.capitalize(), type=f"widget-{name}",
                         release="foo_widget_free(s->widget);" if release else "(void)s;")


@pytest.fixture
def widget_tree(tmp_path) -> Path:
    """Six device types: five free their widget on unrealize, foxtrot does not."""
    root = tmp_path / "tree"
    shutil.copytree(EXAMPLES / "include", root / "include")
    (root / "VERSION").write_text("10.2.2\n")
    (root / "include" / "hw" / "misc").mkdir(parents=True, exist_ok=True)
    (root / "include" / "hw" / "misc" / "foo-widget.h").write_text(HEADER)
    folder = root / "hw" / "misc"
    folder.mkdir(parents=True)
    for name in FOLLOWERS + (DEVIANT,):
        (folder / f"widget-{name}.c").write_text(_device(name, name != DEVIANT))
    return root


def _acquire_line() -> int:
    return next(i for i, line in enumerate(DEVICE.splitlines(), 1) if "/* ACQUIRE */" in line)


def _mine(root: Path, catalog):
    tree = QemuTree.open(root)
    result = analyse(tree, [root / "hw"], catalog, jobs=1, select=set(), need_program=True)
    assert not result.internal
    return mine(result.program, catalog.families.values(), catalog.tables, tree.version)


def test_the_pair_is_mined_with_its_support_confidence_and_deviant(widget_tree, catalog):
    pairs = _mine(widget_tree, catalog)
    pair = next(p for p in pairs if (p.acquire, p.release) == ("foo_widget_new", "foo_widget_free"))
    assert (pair.acquire_index, pair.release_index) == (RESULT, 0)
    assert (pair.support, pair.follows, pair.sites) == (6, 5, 6)
    assert pair.confidence == pytest.approx(5 / 6)
    assert pair.z == pytest.approx(z_statistic(6, 5))
    assert pair.status == NEW and pair.words == ("foo", "widget")
    assert [(d.device, d.acquire.file, d.acquire.line, d.resource) for d in pair.deviants] == [
        ("widget-foxtrot", "hw/misc/widget-foxtrot.c", _acquire_line(), "self.widget")]
    assert sorted(e.device for e in pair.examples) == sorted(f"widget-{n}" for n in FOLLOWERS)
    assert not pair.frees_argument


def test_the_text_table_names_the_deviant_with_its_line(widget_tree, catalog):
    pairs = _mine(widget_tree, catalog)
    out = io.StringIO()
    api_pairs.text(pairs, out, written=api_pairs.written_pairs(propose(pairs, catalog.families)))
    text = out.getvalue()
    row = next(line for line in text.splitlines() if "foo_widget_new()→ / foo_widget_free(#0)" in line)
    # rank, written, pair, support, sites (one per file), confidence, z, status
    assert row.split() == ["1", "+", "foo_widget_new()→", "/", "foo_widget_free(#0)", "6", "6", "0.83",
                           f"{z_statistic(6, 5):.2f}", "new"]
    assert f"deviates: widget-foxtrot hw/misc/widget-foxtrot.c:{_acquire_line()} self.widget" in text


def test_written_toml_loads_and_the_deviant_leak_is_a_note(widget_tree, catalog, tmp_path):
    # without the pair, lifecheck knows nothing about widgets
    deviant = widget_tree / "hw" / "misc" / f"widget-{DEVIANT}.c"
    assert check_tree(widget_tree, [deviant], catalog).findings == []

    pairs = _mine(widget_tree, catalog)
    families = propose(pairs, catalog.families)
    assert [f.name for f in families] == ["foo-widget"]
    headers = QemuTree.open(widget_tree).declaring_headers(["foo_widget_new"])
    assert headers == {"foo_widget_new": "include/hw/misc/foo-widget.h"}
    mined_dir = tmp_path / "mined"
    (mined_dir / "api").mkdir(parents=True)
    out = io.StringIO()
    api_pairs.toml(families, headers, out, source="test tree")
    (mined_dir / "api" / "mined.toml").write_text(out.getvalue())
    assert "support 6 device types (6 sites), confidence 0.83 (5/6)" in out.getvalue()

    loaded = load_catalog([default_rules_dir(), mined_dir])
    fam = loaded.families["foo-widget"]
    assert fam.mined and fam.must_release and fam.header == "include/hw/misc/foo-widget.h"
    assert [(c.function, c.role, c.resource) for c in fam.calls] == [
        ("foo_widget_new", "acquire", -1), ("foo_widget_free", "release", 0)]

    # a guess hides nothing: the program still follows the pair's bodies
    assert "foo_widget_new" in loaded.api_functions() and "foo_widget_new" not in loaded.opaque_functions()
    assert "fifo8_create" in loaded.opaque_functions()

    report = check_tree(widget_tree, [widget_tree / "hw"], loaded)
    assert [(f.rule, f.loc.file, f.loc.line, f.severity, f.mined) for f in report.findings] == [
        ("leak-on-unrealize", f"hw/misc/widget-{DEVIANT}.c", _acquire_line(), "note", True)]


def test_a_configured_severity_does_not_raise_a_mined_finding(widget_tree, catalog, tmp_path):
    pairs = _mine(widget_tree, catalog)
    mined_dir = tmp_path / "mined"
    (mined_dir / "api").mkdir(parents=True)
    out = io.StringIO()
    api_pairs.toml(propose(pairs, catalog.families), {}, out)
    (mined_dir / "api" / "mined.toml").write_text(out.getvalue())
    (widget_tree / "lifecheck.toml").write_text('[severity]\nleak-on-unrealize = "error"\n')
    # the widgets are sysbus devices: their leaks hold only in principle (--show-all)
    proc = subprocess.run([sys.executable, "-m", "lifecheck", "check", "--no-cache", "-j", "1", "--show-all",
                           "--rules-dir", str(mined_dir), "--fail-on", "note", "hw/"],
                          cwd=widget_tree, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == [
        f"hw/misc/widget-{DEVIANT}.c:{_acquire_line()}:17: note: self.widget (a foo widget, from a mined pair "
        "not yet reviewed) is acquired with foo_widget_new() in realize but nothing reachable from unrealize or "
        "instance_finalize releases it (foo_widget_free()) -- leak per unplug (in principle) [leak-on-unrealize]"]


def test_the_command_writes_toml_and_json(widget_tree, tmp_path):
    out = tmp_path / "mined" / "api" / "widgets.toml"
    proc = subprocess.run([sys.executable, "-m", "lifecheck", "api", "mine", "--no-cache", "-j", "1",
                           "--format", "toml", "-o", str(out), "hw/"],
                          cwd=widget_tree, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "1 new passing support >= 5, confidence >= 0.8 and sites >= 2 (written)" in proc.stderr
    text = out.read_text()
    assert "from QEMU 10.2.2 (hw/)" in text and 'header = "include/hw/misc/foo-widget.h"' in text
    assert f"#   deviates: widget-{DEVIANT} hw/misc/widget-{DEVIANT}.c:{_acquire_line()}" in text
    load_catalog([default_rules_dir(), out.parent.parent])

    # a higher threshold writes nothing
    proc = subprocess.run([sys.executable, "-m", "lifecheck", "api", "mine", "--no-cache", "-j", "1",
                           "--format", "toml", "--min-confidence", "0.9", "hw/"],
                          cwd=widget_tree, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "[[family]]" not in proc.stdout

    proc = subprocess.run([sys.executable, "-m", "lifecheck", "api", "mine", "--no-cache", "-j", "1",
                           "--format", "json", "hw/"],
                          cwd=widget_tree, capture_output=True, text=True, timeout=300)
    doc = json.loads(proc.stdout)
    row = next(p for p in doc["pairs"] if p["acquire"] == "foo_widget_new")
    assert (row["support"], row["follows"], row["written"]) == (6, 5, True)
    assert [(d["device"], d["line"]) for d in row["deviate"]] == [(f"widget-{DEVIANT}", _acquire_line())]


# -- the release that frees what it is given ------------------------------------

DOE = """\
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/sysbus.h"
#include "qemu/module.h"
#include "qom/object.h"

typedef struct DoeBox {{ uint32_t *mbox; }} DoeBox;
void doe_box_init(DoeBox *box, uint32_t n);
void doe_box_fini(DoeBox *box);

typedef struct {Name}State {{
    SysBusDevice parent_obj;
    DoeBox box;
}} {Name}State;

static void {name}_realize(DeviceState *dev, Error **errp)
{{
    doe_box_init(&(({Name}State *)dev)->box, 4);
}}

static void {name}_unrealize(DeviceState *dev)
{{
    doe_box_fini(&(({Name}State *)dev)->box);
}}

static void {name}_class_init(ObjectClass *klass, const void *data)
{{
    DeviceClass *dc = DEVICE_CLASS(klass);

    dc->realize = {name}_realize;
    dc->unrealize = {name}_unrealize;
}}

static const TypeInfo {name}_info = {{
    .name = "{name}", .parent = TYPE_SYS_BUS_DEVICE, .instance_size = sizeof({Name}State),
    .class_init = {name}_class_init,
}};
"""

DOE_LIB = """\
#include "qemu/osdep.h"
typedef struct DoeBox { uint32_t *mbox; } DoeBox;
void doe_box_fini(DoeBox *box)
{
    g_free(box->mbox);
    g_free(box);
}
"""


def test_a_release_that_frees_its_argument_is_marked(tmp_path, catalog):
    root = tmp_path / "tree"
    shutil.copytree(EXAMPLES / "include", root / "include")
    (root / "VERSION").write_text("10.2.2\n")
    (root / "hw" / "misc").mkdir(parents=True)
    (root / "hw" / "misc" / "doe-lib.c").write_text(DOE_LIB)
    for name in ("one", "two"):
        (root / "hw" / "misc" / f"doe-{name}.c").write_text(DOE.format(name=name, Name=name.capitalize()))
    pairs = _mine(root, catalog)
    pair = next(p for p in pairs if p.acquire == "doe_box_init")
    assert (pair.release, pair.acquire_index, pair.release_index) == ("doe_box_fini", 0, 0)
    assert pair.frees_argument and pair.embedded == 2 and pair.sites == 2
    families = propose(pairs, catalog.families, min_support=2)
    assert families[0].releases == (("doe_box_fini", 0, True),)
    out = io.StringIO()
    api_pairs.toml(families, {}, out, min_support=2)
    (tmp_path / "d" / "api").mkdir(parents=True)
    (tmp_path / "d" / "api" / "doe.toml").write_text(out.getvalue())
    fam = load_catalog([default_rules_dir(), tmp_path / "d"]).families["doe-box"]
    release = next(c for c in fam.calls if c.role == "release")
    assert release.attrs == ("frees-argument",)
    # the coming fix generator asks which releases fit the resource as held
    from lifecheck.model import AccessPath, SELF
    assert fam.fix_releases(AccessPath(SELF, (("->", "box"),), address_of=True)) == []
    assert fam.fix_releases(AccessPath(SELF, (("->", "boxp"),))) == ["doe_box_fini"]


def test_pcie_doe_fini_is_marked_in_the_bundled_table(catalog):
    from lifecheck.model import AccessPath, SELF
    fam = catalog.families["pcie-doe"]
    assert fam.fix_releases(AccessPath(SELF, (("->", "doe_cdat"),), address_of=True)) == []


# -- the name pairing -------------------------------------------------------------

@pytest.fixture(scope="module")
def pairing():
    return Pairing.from_table(load_catalog().tables["pairing"])


@pytest.mark.parametrize("acquire, release, words", [
    ("fifo8_create", "fifo8_destroy", ("fifo8",)),
    ("qemu_add_vm_change_state_handler", "qemu_del_vm_change_state_handler",
     ("qemu", "vm", "change", "state", "handler")),
    ("register_savevm_live", "unregister_savevm", ("savevm",)),
    ("timer_new_ns", "timer_free", ("timer",)),
    ("memory_region_add_subregion", "memory_region_del_subregion", ("memory", "region", "subregion")),
    ("qemu_chr_fe_init", "qemu_chr_fe_deinit", ("qemu", "chr", "fe")),
    ("vmstate_register_with_alias_id", "vmstate_unregister", ("vmstate",)),
    ("AUD_open_out", "AUD_close_out", ("aud", "out")),
    ("object_initialize_child", "object_unparent", ("object", "initialize", "child")),
])
def test_names_that_pair_up(pairing, acquire, release, words):
    got = name_pairs(pairing, [acquire, release])
    assert [(p.acquire, p.release, p.words) for p in got] == [(acquire, release, words)]


@pytest.mark.parametrize("acquire, release", [
    ("fifo8_create", "fifo32_destroy"),               # another object
    ("memory_region_add_subregion", "memory_region_del_eventfd"),   # words after the verb differ
    ("timer_new_ns", "timer_del_ms"),                 # new/del, but ns against ms
    ("qemu_add_x", "add_x_del"),                      # the verb moved
    ("vfio_device_init", "vfio_device_free_name"),    # the release may not add words
    ("msix_init", "msix_uninit_exclusive_bar"),
    ("fifo8_destroy", "fifo8_create"),                # the wrong way round
])
def test_names_that_do_not_pair_up(pairing, acquire, release):
    assert (acquire, release) not in [(p.acquire, p.release) for p in name_pairs(pairing, [acquire, release])]


def test_one_acquire_may_pair_with_several_releases(pairing):
    got = name_pairs(pairing, ["blk_new", "blk_unref", "blk_free", "blk_delete", "blk_ref"])
    assert sorted((p.acquire, p.release) for p in got) == [
        ("blk_new", "blk_delete"), ("blk_new", "blk_free"), ("blk_new", "blk_unref"), ("blk_ref", "blk_unref")]


@pytest.mark.parametrize("table, message", [
    ({"verb": []}, "unknown key 'verb'"),
    ({"verbs": [["new"]]}, "key 'verbs' must be a list of [acquire, release]"),
    ({"irregular": [["g_malloc", "g free"]]}, "key 'irregular' must be a list"),
    ({"verbs": [["add_x", "del"]]}, "must be single words"),
])
def test_a_bad_pairing_table_names_the_key(table, message):
    with pytest.raises(PairingDataError) as err:
        Pairing.from_table(table, "pairing.toml")
    assert str(err.value).startswith("pairing.toml: ") and message in str(err.value)


def test_z_statistic_ranks_more_evidence_higher():
    assert z_statistic(50, 50) > z_statistic(5, 5) > 0 > z_statistic(6, 5)
    assert z_statistic(10, 9) == pytest.approx(0.0)


def test_statuses_against_the_api_table(catalog):
    """A pair the table has is known; a disarm call is not a release."""
    from lifecheck.facts.mining import MinedPair, classify
    families = list(catalog.families.values())
    for acquire, release, status, family in [
            ("fifo8_create", "fifo8_destroy", KNOWN, "fifo8"),
            ("timer_new_ns", "timer_del", DISARM, "timer"),
            ("fifo8_create", "fifo8_reset", ACQUIRE_KNOWN, "fifo8"),
            ("foo_widget_new", "foo_widget_free", NEW, "")]:
        pair = MinedPair(acquire, release, 0, 0, 1, 1)
        classify(pair, families)
        assert (pair.status, pair.family) == (status, family), (acquire, release)


def test_types_that_share_one_hook_are_one_site_and_not_written(tmp_path, catalog):
    """Six models of one device (one realize, inherited): support 6, but
    one place in the code, which is no convention yet."""
    root = tmp_path / "tree"
    shutil.copytree(EXAMPLES / "include", root / "include")
    (root / "VERSION").write_text("10.2.2\n")
    (root / "include" / "hw" / "misc").mkdir(parents=True, exist_ok=True)
    (root / "include" / "hw" / "misc" / "foo-widget.h").write_text(HEADER)
    (root / "hw" / "misc").mkdir(parents=True)
    code = _device("base", True).replace('.name          = "widget-base",',
                                         '.name          = "widget-base", .abstract = true,')
    models = "".join(f'static const TypeInfo model{i}_info = {{ .name = "widget-model{i}", '
                     f'.parent = "widget-base" }};\n' for i in range(6))
    (root / "hw" / "misc" / "widget-base.c").write_text(code + models)
    pairs = _mine(root, catalog)
    pair = next(p for p in pairs if p.acquire == "foo_widget_new")
    assert (pair.support, pair.follows, pair.sites) == (6, 6, 1)
    assert propose(pairs, catalog.families) == []
    assert [f.acquire for f in propose(pairs, catalog.families, min_sites=1)] == ["foo_widget_new"]


def test_the_readme_family_of_your_own_is_checked_at_full_severity(widget_tree, tmp_path):
    """README "Pairs of your own fork": the example family, in a folder
    named with --rules-dir, needs no rule file; not being mined, its
    finding has the rule's own severity."""
    import re
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    (family,) = [b for b in re.findall(r"^```toml\n(.*?)^```", readme, flags=re.S | re.M) if "[[family]]" in b]
    (tmp_path / "mine" / "api").mkdir(parents=True)
    (tmp_path / "mine" / "api" / "widgets.toml").write_text(family)
    # the widgets are sysbus devices: the leak holds only in principle (a
    # note, shown with --show-all); a configured severity raises it, which
    # it would not do for a mined family
    (widget_tree / "lifecheck.toml").write_text('[severity]\nleak-on-unrealize = "warning"\n')
    proc = subprocess.run([sys.executable, "-m", "lifecheck", "check", "--no-cache", "-j", "1", "--show-all",
                           "--rules-dir", str(tmp_path / "mine"), "--format", "json", "hw/"],
                          cwd=widget_tree, capture_output=True, text=True, timeout=300)
    found = [(f["rule"], f["file"], f["line"], f["severity"], f.get("mined", False), f["consequence"])
             for f in json.loads(proc.stdout)["findings"]]
    assert found == [("leak-on-unrealize", f"hw/misc/widget-{DEVIANT}.c", _acquire_line(), "warning", False,
                      "leak-per-unplug")]
