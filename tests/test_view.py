"""Consequences and the default view (issue 18).

Every finding says what goes wrong and when (its consequence), derived
from the rule's kind and phase, the API family's traits and the device's
hotplug status; severity and rank follow.  What holds only in principle
is hidden by default, counted, and shown with --show-all (or show-all =
true in lifecheck.toml).  A virtio device is as unpluggable as its
transport proxies; a device that makes the machine's ISA bus is the
board's built-in one."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest

from conftest import EXAMPLES, check_tree
from lifecheck.config import Config, ConfigError, load_config
from lifecheck.findings import CONSEQUENCES, Finding, Report, finding_order
from lifecheck.model import Location, Notice
from lifecheck.pipeline import FindingsRequest, Pipeline
from lifecheck.report import json_format, sarif, text
from lifecheck.rules.consequence import derive, rank_for, severity_for
from lifecheck.rules.spec import RuleConfig, RuleDoc, RuleSpec, VersionSeverity
from test_workflow import lifecheck, stub_tree

SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"


def finding(shape="missing-release", hook="realize", **kw) -> Finding:
    base = dict(rule="leak-on-unrealize", severity="warning", loc=Location("hw/misc/a.c", 10, 5),
                message="m", function="f", resource="self.x", hook=hook, device="d", shape=shape)
    base.update(kw)
    return Finding(**base)


# -- consequence, severity and rank -------------------------------------------------

@pytest.mark.parametrize("shape,hook,traits,expected", [
    ("missing-release", "realize", ("registration",), "use-after-free-after-unplug"),
    ("missing-release", "runtime", ("callback",), "use-after-free-after-unplug"),
    ("missing-release", "realize", ("heap",), "leak-per-unplug"),
    ("missing-release", "realize", ("mapping",), "stale-guest-mapping"),
    ("missing-release", "instance_init", ("registration",), "use-after-free-after-introspection"),
    # a heap timer made in instance_init is never armed there: its memory leaks
    ("missing-release", "instance_init", ("callback",), "leak-per-introspection"),
    # an embedded one allocates nothing: it matters once realized, at unplug
    ("missing-release", "instance_init", ("callback", "in-place"), "use-after-free-after-unplug"),
    ("missing-release", "instance_init", (), "leak-per-introspection"),
    ("error-exit-leak", "realize", ("registration",), "use-after-free-after-failed-realize"),
    ("error-exit-leak", "realize", ("callback",), "leak-on-failed-realize"),
    ("misplaced-release", "unrealize", ("region",), "use-after-free-in-flight"),
    ("misplaced-release", "instance_finalize", ("mapping",), "stale-guest-mapping"),
    ("misplaced-release", "instance_finalize", ("qom-child",), "api-misuse"),
    ("second-release", "instance_finalize", ("heap",), "use-after-free-on-teardown"),
    ("use-after-release", "unrealize", ("callback",), "use-after-free-on-teardown"),
    ("stale-suppression", "", (), "none"),
])
def test_consequence_follows_shape_phase_and_traits(shape, hook, traits, expected):
    assert derive(finding(shape, hook), traits) == expected


def test_a_rule_may_declare_its_consequence():
    assert derive(finding("misplaced-release", "unrealize"), ("region",), "api-misuse") == "api-misuse"


def _spec(**config) -> RuleSpec:
    return RuleSpec(slug="r", kind="leak", summary="s", doc=RuleDoc("w", "y", "b", "g", ()),
                    config=RuleConfig(**config))


def test_severity_is_the_consequences_and_a_step_lower_in_principle():
    assert severity_for("use-after-free-after-unplug", True, None, (10, 2, 2), False) == "error"
    assert severity_for("use-after-free-after-unplug", False, None, (10, 2, 2), False) == "warning"
    assert severity_for("leak-per-unplug", True, None, (10, 2, 2), False) == "warning"
    assert severity_for("leak-per-unplug", False, None, (10, 2, 2), False) == "note"
    assert severity_for("leak-per-introspection", True, None, (10, 2, 2), False) == "warning"


def test_version_severity_and_mined_families_cap_the_severity():
    spec = _spec(version_severity=(VersionSeverity("note", max="10.1"),))
    assert severity_for("use-after-free-after-unplug", True, spec, (10, 0, 13), False) == "note"
    assert severity_for("use-after-free-after-unplug", True, spec, (10, 2, 2), False) == "error"
    assert severity_for("use-after-free-after-unplug", True, None, (10, 2, 2), True) == "note"


def test_rank_orders_by_consequence_then_reach():
    reachable = sorted(CONSEQUENCES, key=lambda c: -rank_for(c, True, False))
    assert reachable[0] == "use-after-free-after-unplug"
    assert reachable[-1] == "none"
    # anything that holds only in principle ranks below everything reachable but "none"
    worst_in_principle = max(rank_for(c, False, False) for c in CONSEQUENCES)
    assert worst_in_principle < min(rank_for(c, True, False) for c in CONSEQUENCES if c != "none")
    assert rank_for("leak-per-unplug", True, True) == CONSEQUENCES["leak-per-unplug"].rank // 2


def test_text_says_the_consequence_before_the_slug():
    f = finding(severity="error", consequence="use-after-free-after-unplug", message="self.t is leaked")
    hidden = dataclasses.replace(f, severity="warning", in_principle=True)
    rep = Report(root="/r", version="10.2.2", findings=[f])
    assert _render(text.report, rep) == (
        "hw/misc/a.c:10:5: error: self.t is leaked -- use after free after unplug [leak-on-unrealize]\n")
    rep.findings = [hidden]
    assert _render(text.report, rep).endswith("-- use after free after unplug (in principle) [leak-on-unrealize]\n")


def test_text_shows_the_worst_first_within_a_file():
    a = finding(loc=Location("hw/a.c", 5, 1), rank=50, severity="warning")
    b = finding(loc=Location("hw/a.c", 90, 1), rank=95, severity="error")
    c = finding(loc=Location("hw/0.c", 99, 1), rank=10, severity="note")
    rep = Report(root="/r", version="10.2.2", findings=[a, b, c])
    out = []
    text.report(rep, _Sink(out))
    assert [line.split(":")[:2] for line in "".join(out).splitlines()] == [
        ["hw/0.c", "99"], ["hw/a.c", "90"], ["hw/a.c", "5"]]
    assert sorted([a, b, c], key=finding_order) == [c, b, a]


class _Sink:
    def __init__(self, out):
        self.out = out

    def write(self, s):
        self.out.append(s)


# -- the pipeline's default view ------------------------------------------------------

def _report() -> Report:
    shown = finding(rule="init-leak", severity="warning", resource="self.a", consequence="leak-per-introspection")
    hidden1 = finding(severity="note", resource="self.b", in_principle=True, consequence="leak-per-unplug")
    hidden2 = finding(severity="warning", resource="self.c", in_principle=True,
                      consequence="use-after-free-after-unplug")
    return Report(root="/r", version="10.2.2", findings=[shown, hidden1, hidden2], files=7)


def test_default_view_hides_and_counts_what_holds_only_in_principle():
    out = Pipeline().apply(_report())
    assert [f.resource for f in out.findings] == ["self.a"]
    assert out.hidden == {"note": 1, "warning": 1}


def test_show_all_keeps_everything():
    out = Pipeline(show_all=True).apply(_report())
    assert [f.resource for f in out.findings] == ["self.a", "self.b", "self.c"]
    assert out.hidden is None


def test_show_all_from_the_flag_or_the_config(tmp_path):
    cfg = tmp_path / "lifecheck.toml"
    cfg.write_text("show-all = true\n")
    config = load_config(cfg)
    assert config.show_all is True
    assert Pipeline.build(FindingsRequest(), config, [], tmp_path).show_all is True
    assert Pipeline.build(FindingsRequest(show_all=False), config, [], tmp_path).show_all is False
    assert Pipeline.build(FindingsRequest(show_all=True), Config(), [], tmp_path).show_all is True
    assert Pipeline.build(FindingsRequest(), Config(), [], tmp_path).show_all is False
    cfg.write_text('show-all = "yes"\n')
    with pytest.raises(ConfigError, match=r"lifecheck.toml:1: key 'show-all': must be true or false"):
        load_config(cfg)


def test_closing_summary_names_counts_the_hidden_and_the_flag():
    rep = Pipeline().apply(_report())
    rep.notices = [Notice("hw/x.c", 3, "could not parse", kind="parse"),
                   Notice("hw/y.c", 0, "guessed", kind="guess")]
    assert text.closing(rep, "--show-all") == (
        "1 finding (1 warning) in 7 files analysed; 2 more hold only in principle (1 warning, 1 note; "
        "devices never unplugged, paths never taken): --show-all shows them; "
        "1 file not fully analysed (-v lists why)")
    everything = Pipeline(show_all=True).apply(_report())
    assert text.closing(everything, "--show-all") == \
        "3 findings (2 warnings, 1 note) in 7 files analysed"


def test_json_and_sarif_carry_consequence_rank_and_hidden_counts():
    rep = Pipeline().apply(_report())
    rep.findings = [dataclasses.replace(rep.findings[0], rank=60, reach="'d' can be created at run time")]
    doc = json.loads(_render(json_format.report, rep))
    f = doc["findings"][0]
    assert (f["consequence"], f["rank"], f["in_principle"]) == ("leak-per-introspection", 60, False)
    assert doc["stats"]["hidden_in_principle"] == {"note": 1, "warning": 1}
    log = json.loads(_render(sarif.report, rep))
    run = log["runs"][0]
    result = run["results"][0]
    assert result["rank"] == 60.0
    assert result["properties"]["consequence"] == "leak-per-introspection"
    assert result["properties"]["inPrinciple"] is False
    assert run["properties"]["hiddenInPrinciple"] == {"note": 1, "warning": 1}
    note = run["invocations"][0]["toolExecutionNotifications"][0]
    assert note["properties"] == {"kind": "hidden-in-principle"}
    assert "2 finding(s)" in note["message"]["text"] and "--show-all" in note["message"]["text"]
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(schema)(schema).validate(log)


def _render(reporter, rep) -> str:
    out = []
    reporter(rep, _Sink(out))
    return "".join(out)


# -- hotplug status through the real parent (examples/) ---------------------------------

@pytest.fixture(scope="module")
def example_findings(catalog):
    report = check_tree(EXAMPLES, [EXAMPLES], catalog)
    return {(f.loc.file, f.rule): f for f in report.findings}


def test_a_virtio_device_is_as_unpluggable_as_its_proxy(example_findings):
    clock = example_findings[("hw/virtio/virtio-clock.c", "leak-on-unrealize")]
    assert (clock.consequence, clock.severity, clock.in_principle) == ("use-after-free-after-unplug", "error", False)
    assert "unrealized with its proxy 'virtio-clock-pci'" in clock.reach
    chime = example_findings[("hw/virtio/virtio-chime.c", "leak-on-unrealize")]
    assert (chime.consequence, chime.severity, chime.in_principle) == ("use-after-free-after-unplug", "warning", True)
    assert "created only by 'virtio-chime-pci'" in chime.reach
    assert "virtio-chime-pci sets hotpluggable = false" in chime.reach


def test_the_device_that_makes_the_isa_bus_is_never_unplugged(example_findings):
    lpc = example_findings[("hw/isa/pci-lpc-lite.c", "leak-on-unrealize")]
    assert lpc.in_principle
    assert "calls isa_bus_new()" in lpc.reach and "never hot-added or unplugged" in lpc.reach


def test_init_leaks_show_on_devices_that_are_never_unplugged(example_findings):
    # sensor-hub is a sysbus device: its init-leaks still show (introspection)
    irq = example_findings[("hw/misc/sensor-hub.c", "init-leak")]
    assert not irq.in_principle and "device-list-properties" in irq.reach


# -- the command line ------------------------------------------------------------------------

def test_check_hides_by_default_and_show_all_shows(tmp_path):
    root = stub_tree(tmp_path, "hw/virtio/virtio-clock.c", "hw/virtio/virtio-chime.c",
                     "hw/virtio/virtio-lite-pci.c", "hw/misc/debug-port.c")
    default = lifecheck("check", ".", "-j", "1", "--format", "json", cwd=root, show_all=False)
    assert default.returncode == 1, default.stderr
    shown = {(f["file"], f["rule"]) for f in json.loads(default.stdout)["findings"]}
    assert shown == {("hw/virtio/virtio-clock.c", "leak-on-unrealize")}
    assert json.loads(default.stdout)["stats"]["hidden_in_principle"] == {"warning": 2}
    assert default.stderr.splitlines()[-1] == (
        "lifecheck: 1 finding (1 error) in 4 files analysed; 2 more hold only in principle (2 warnings; "
        "devices never unplugged, paths never taken): --show-all shows them")
    every = lifecheck("check", ".", "-j", "1", "--format", "json", "--show-all", cwd=root, show_all=False)
    assert {(f["file"], f["rule"]) for f in json.loads(every.stdout)["findings"]} == shown | {
        ("hw/virtio/virtio-chime.c", "leak-on-unrealize"), ("hw/misc/debug-port.c", "subregion-not-deleted")}
    assert every.stderr.splitlines()[-1] == "lifecheck: 3 findings (1 error, 2 warnings) in 4 files analysed"
    # hidden findings never fail the run
    quiet = lifecheck("check", "hw/misc", "-j", "1", "--fail-on", "warning", "-q", cwd=root, show_all=False)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    # the config file's key does what the flag does
    (root / "lifecheck.toml").write_text("show-all = true\n")
    configured = lifecheck("check", ".", "-j", "1", "--format", "json", cwd=root, show_all=False)
    assert len(json.loads(configured.stdout)["findings"]) == 3


def test_a_baseline_records_hidden_findings_too(tmp_path):
    root = stub_tree(tmp_path, "hw/virtio/virtio-clock.c", "hw/virtio/virtio-chime.c", "hw/virtio/virtio-lite-pci.c")
    assert lifecheck("baseline", "b.json", ".", "-j", "1", cwd=root).returncode == 0
    assert len(json.loads((root / "b.json").read_text())["findings"]) == 2
    proc = lifecheck("check", ".", "-j", "1", "--format", "json", "--show-all", "--baseline", "b.json",
                     cwd=root, show_all=False)
    assert proc.returncode == 0 and json.loads(proc.stdout)["findings"] == []


def test_a_release_cut_off_later_in_the_same_hook_holds_only_in_principle(catalog):
    # pci-sampler.c frees s->history (124) before its exit unmaps the window
    # whose read handler reads it: the order is wrong, but the handler
    # cannot run in between (both under the BQL); s->samples (123), read
    # by a timer nothing stops first, is a use after free in flight
    report = check_tree(EXAMPLES, [EXAMPLES], catalog)
    got = {f.loc.line: f for f in report.findings
           if f.rule == "freed-in-unrealize" and f.loc.file == "hw/misc/pci-sampler.c"}
    assert (got[124].consequence, got[124].in_principle) == ("api-misuse", True)
    assert "cut off later in the same teardown hook" in got[124].reach
    assert (got[123].consequence, got[123].in_principle) == ("use-after-free-in-flight", False)


def test_a_local_leak_outside_any_device_takes_the_reach_of_the_realize_that_runs_it(example_findings):
    # the helpers hold the object in a local: the finding belongs to no
    # device; the devices whose realize calls the helper decide its reach
    board = example_findings[("hw/misc/board-relay.c", "realize-error-leak")]
    assert (board.loc.line, board.device, board.in_principle) == (47, "", True)
    assert "runs only in the realize of 'board-relay'" in board.reach
    pci = example_findings[("hw/misc/pci-relay.c", "realize-error-leak")]
    assert (pci.loc.line, pci.in_principle) == (69, False)
    assert "runs in the realize of 'pci-relay'" in pci.reach and "device_add" in pci.reach


def test_a_helper_guarded_by_a_field_only_another_device_sets(example_findings):
    # qns_setup() allocates under ``if (ns->pool)``; only pci-qns's realize
    # sets ns->pool, on its own object: silent for pci-qctrl's embedded
    # namespace; pci-qctrl-pool sets its own namespace's group: reported
    assert ("hw/block/pci-qctrl.c", "leak-on-unrealize") not in example_findings
    pool = example_findings[("hw/block/pci-qctrl-pool.c", "leak-on-unrealize")]
    assert (pool.loc.line, pool.device, pool.resource) == (79, "pci-qctrl-pool", "self.ns.handles")


def test_an_acquisition_each_reset_leaks_per_run_even_on_a_board_device(catalog):
    # reset-ticker is a sysbus device, never unplugged: the timer its reset
    # handler makes again on every reset (58) leaks each reset, shown; the
    # one made only when the field is still NULL (60) holds only in principle
    report = check_tree(EXAMPLES, [EXAMPLES / "hw/misc/reset-ticker.c"], catalog)
    got = {f.loc.line: f for f in report.findings if f.rule == "leak-on-unrealize"}
    assert (got[58].consequence, got[58].severity, got[58].in_principle) == ("leak-per-run", "warning", False)
    assert "reset_ticker_reset() runs while the device is realized" in got[58].reach
    assert (got[60].consequence, got[60].in_principle) == ("use-after-free-after-unplug", True)


def test_a_global_struct_value_does_not_set_a_device_field_of_the_same_name(example_findings):
    # pci-tagger: ``tagger_defaults.label = ...`` (a global value) leaves
    # s->label unset; ``tagger_board->tag = ...`` (through a pointer) may
    # set s->tag, so its branch's leak is reported
    assert [f.loc.line for (file, rule), f in example_findings.items()
            if file == "hw/misc/pci-tagger.c"] == [70]


def test_a_local_leak_in_a_board_init_helper_holds_only_in_principle(example_findings):
    board = example_findings[("hw/misc/mini-board.c", "realize-error-leak")]
    assert (board.loc.line, board.device, board.in_principle, board.severity) == (34, "", True, "note")
    assert "from a board's init (mini_board_init())" in board.reach
