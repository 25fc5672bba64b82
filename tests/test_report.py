"""Reporters (text, JSON, SARIF) and `explain`, on a hand-built Report.

The SARIF output is validated against the vendored official OASIS schema
(tests/schemas/), and checked field by field against the contract in
DESIGN.md section 4.
"""
import dataclasses
import io
import json
from pathlib import Path

import jsonschema
import pytest

from lifecheck import explain
from lifecheck.findings import Finding, RelatedLocation, Report, number_findings
from lifecheck.model import Location, Notice
from lifecheck.report import github, gitlab, json_format, sarif, text
from lifecheck.rules.catalog import RuleDoc, RuleSpec
from lifecheck.rules.kinds import KINDS

SCHEMA = Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json"
ROOT = "/home/someone/src/qemu-10.2.2"


def make_rule(slug, kind, known_problems="", **config):
    return RuleSpec(
        slug=slug,
        kind=kind,
        summary=f"Summary of {slug}.",
        doc=RuleDoc(
            what=f"Finds {slug}.\nSecond line of what.",
            why="The guest can still reach it.",
            bad="static void foo_realize(DeviceState *dev, Error **errp)\n"
                "{\n    memory_region_add_subregion(get_system_memory(), 0, &s->mmio);\n}\n",
            good="static void foo_unrealize(DeviceState *dev)\n"
                 "{\n    memory_region_del_subregion(get_system_memory(), &s->mmio);\n}\n",
            references=("docs/devel/memory.rst: Region lifecycle",),
            known_problems=known_problems,
        ),
        config=KINDS[kind].config(**config),
        min_version=(2, 0),
        max_version=(11, 0),
    )


RULE_SUB = make_rule("subregion-not-deleted", "missing-release",
                     known_problems="Containers reached through tables are not followed.",
                     default_severity="warning", severity_by_unplug=True)
RULE_FREED = make_rule("freed-in-unrealize", "wrong-phase-release", default_severity="error")

F_SUB = Finding(
    rule="subregion-not-deleted", severity="error",
    loc=Location("hw/misc/foo.c", 120, 5),
    message="`s->mmio` is added to system memory in realize but never deleted on unrealize",
    function="foo_realize", resource="self.mmio", hook="realize", device="foo-device",
    related=(
        RelatedLocation(Location("hw/misc/foo.c", 120, 5), "added here", "acquire"),
        RelatedLocation(Location("hw/misc/foo.c", 150, 1), "unrealize is here", "missing-release"),
    ),
)
F_FREED = Finding(
    rule="freed-in-unrealize", severity="warning",
    loc=Location("hw/misc/foo.c", 160, 9),
    message="`s->ram` is unparented in unrealize; reclaim it in instance_finalize",
    function="foo_unrealize", resource="self.ram", hook="unrealize", device="foo-device",
    related=(RelatedLocation(Location("hw/misc/foo.c", 118, 5), "created here", "acquire"),),
)
F_BAR = Finding(
    rule="subregion-not-deleted", severity="warning",
    loc=Location("hw/display/bar.c", 42, 3),
    message="`s->vram` is added to the PCI address space in realize but never deleted on unrealize",
    function="bar_realize", resource="self.vram", hook="realize", device="bar-vga",
)
NOTICES = [
    Notice("hw/net/zed.c", 300, "function zed_init: unsupported construct"),
    Notice("hw/audio/qux.c", 12, "file could not be preprocessed", kind="preprocess"),
]


def make_report(findings=(F_FREED, F_SUB, F_BAR), notices=NOTICES, rules=(RULE_SUB, RULE_FREED)):
    return Report(
        root=ROOT, version="10.2.2", findings=list(findings), notices=list(notices),
        files=3, functions_found=40, functions_recovered=39, rules=list(rules),
        tool_version="0.1.0",
    )


def run(reporter, rep, **kwargs):
    out = io.StringIO()
    reporter(rep, out, **kwargs)
    return out.getvalue()


# -- text ---------------------------------------------------------------------

def test_text_one_line_per_finding_sorted():
    assert run(text.report, make_report()).splitlines() == [
        "hw/display/bar.c:42:3: warning: `s->vram` is added to the PCI address space"
        " in realize but never deleted on unrealize [subregion-not-deleted]",
        "hw/misc/foo.c:120:5: error: `s->mmio` is added to system memory in realize"
        " but never deleted on unrealize [subregion-not-deleted]",
        "hw/misc/foo.c:160:9: warning: `s->ram` is unparented in unrealize;"
        " reclaim it in instance_finalize [freed-in-unrealize]",
    ]


def test_text_verbose_adds_notices_then_summary():
    lines = run(text.report, make_report(), verbose=True).splitlines()
    assert lines[3:] == [
        "hw/audio/qux.c:12: note: could not analyse: file could not be preprocessed",
        "hw/net/zed.c:300: note: could not analyse: function zed_init: unsupported construct",
        "3 findings (1 error, 2 warnings) in 3 files; 39 of 40 functions analysed; 2 notices",
    ]


def test_text_summary_counts_suppressed_findings():
    rep = make_report(findings=(), notices=())
    rep.suppressed = 2
    assert text.summary(rep) == ("0 findings in 3 files; 39 of 40 functions analysed; 0 notices; "
                                 "2 suppressed in the source")


def test_text_empty_report():
    rep = make_report(findings=(), notices=())
    assert run(text.report, rep) == ""
    assert run(text.report, rep, verbose=True) == (
        "0 findings in 3 files; 39 of 40 functions analysed; 0 notices\n")


def test_text_keeps_a_multiline_message_on_one_line():
    f = dataclasses.replace(F_BAR, message="first\n  second")
    assert run(text.report, make_report(findings=[f])) == (
        "hw/display/bar.c:42:3: warning: first second [subregion-not-deleted]\n")


# -- JSON ---------------------------------------------------------------------

def test_json_document():
    output = run(json_format.report, make_report())
    assert output.endswith("}\n")
    doc = json.loads(output)
    assert set(doc) == {"version", "qemu_version", "findings", "notices", "stats"}
    assert doc["version"] == "0.1.0"
    assert doc["qemu_version"] == "10.2.2"
    assert doc["stats"] == {"files": 3, "functions_found": 40, "functions_recovered": 39,
                            "functions_guessed": 0, "lost_functions_reached_from_hooks": 0,
                            "files_yielding_nothing": [], "files_without_functions": 0,
                            "lost_reasons": {}, "suppressed": 0}
    assert "baseline" not in doc  # only with --baseline
    assert [(f["file"], f["line"], f["rule"]) for f in doc["findings"]] == [
        ("hw/display/bar.c", 42, "subregion-not-deleted"),
        ("hw/misc/foo.c", 120, "subregion-not-deleted"),
        ("hw/misc/foo.c", 160, "freed-in-unrealize"),
    ]
    assert doc["findings"][1] == {
        "rule": "subregion-not-deleted", "severity": "error",
        "file": "hw/misc/foo.c", "line": 120, "column": 5,
        "message": F_SUB.message, "function": "foo_realize", "resource": "self.mmio",
        "hook": "realize", "device": "foo-device", "fingerprint": F_SUB.fingerprint,
        "consequence": "", "rank": 0, "in_principle": False, "reach": "",
        "related": [
            {"file": "hw/misc/foo.c", "line": 120, "column": 5,
             "message": "added here", "role": "acquire"},
            {"file": "hw/misc/foo.c", "line": 150, "column": 1,
             "message": "unrealize is here", "role": "missing-release"},
        ],
    }
    assert doc["notices"] == [
        {"file": "hw/audio/qux.c", "line": 12, "kind": "preprocess",
         "message": "file could not be preprocessed"},
        {"file": "hw/net/zed.c", "line": 300, "kind": "parse",
         "message": "function zed_init: unsupported construct"},
    ]


def test_json_is_byte_identical_whatever_the_input_order():
    first = run(json_format.report, make_report())
    assert run(json_format.report, make_report()) == first
    shuffled = make_report(findings=(F_BAR, F_SUB, F_FREED), notices=NOTICES[::-1])
    assert run(json_format.report, shuffled) == first


@pytest.mark.parametrize("reporter", [json_format.report, sarif.report, gitlab.report, github.report])
def test_machine_formats_hold_no_absolute_path(reporter):
    output = run(reporter, make_report())
    assert ROOT not in output
    assert "/home/" not in output


# -- SARIF --------------------------------------------------------------------

def sarif_doc(rep=None):
    return json.loads(run(sarif.report, rep or make_report()))


def test_sarif_is_valid_against_the_official_schema():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert "2.1.0" in schema.get("$id", schema.get("id", ""))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    for rep in (make_report(), make_report(findings=(), notices=(), rules=())):
        errors = sorted(validator.iter_errors(sarif_doc(rep)), key=str)
        assert not errors, "\n".join(str(e) for e in errors[:3])


def test_sarif_log_header():
    doc = sarif_doc()
    assert doc["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert doc["version"] == "2.1.0"
    assert len(doc["runs"]) == 1
    run_ = doc["runs"][0]
    assert run_["tool"]["driver"]["name"] == "lifecheck"
    assert run_["tool"]["driver"]["version"] == "0.1.0"
    assert "informationUri" not in run_["tool"]["driver"]
    assert run_["originalUriBaseIds"] == {
        "%SRCROOT%": {"description": {"text": "the QEMU tree root"}}}


def test_sarif_results_follow_the_contract():
    run_ = sarif_doc()["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    results = run_["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
            for r in results] == [
        ("subregion-not-deleted", 42), ("subregion-not-deleted", 120), ("freed-in-unrealize", 160)]
    sub = results[1]
    assert rules[sub["ruleIndex"]]["id"] == "subregion-not-deleted"
    assert rules[results[2]["ruleIndex"]]["id"] == "freed-in-unrealize"
    assert sub["level"] == "error"
    assert results[0]["level"] == "warning"
    assert sub["message"] == {"text": F_SUB.message}
    location = sub["locations"][0]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "hw/misc/foo.c", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 120, "startColumn": 5},
    }
    assert location["logicalLocations"] == [{"name": "foo_realize", "kind": "function"}]
    assert sub["partialFingerprints"] == {"lifecheckFingerprint/v1": F_SUB.fingerprint}
    assert sub["properties"] == {"resource": "self.mmio", "hook": "realize", "device": "foo-device"}
    related = sub["relatedLocations"]
    assert [r["id"] for r in related] == [1, 2]
    assert [r["physicalLocation"]["region"]["startLine"] for r in related] == [120, 150]
    assert [r["message"]["text"] for r in related] == ["added here", "unrealize is here"]
    assert [r["properties"]["role"] for r in related] == ["acquire", "missing-release"]
    assert "relatedLocations" not in results[0]


def test_sarif_fingerprint_survives_a_line_move():
    moved = dataclasses.replace(F_SUB, loc=Location("hw/misc/foo.c", 133, 5))
    before = sarif_doc(make_report(findings=[F_SUB]))["runs"][0]["results"][0]
    after = sarif_doc(make_report(findings=[moved]))["runs"][0]["results"][0]
    assert after["locations"][0]["physicalLocation"]["region"]["startLine"] == 133
    assert after["partialFingerprints"] == before["partialFingerprints"]
    other = dataclasses.replace(F_SUB, resource="self.io")
    changed = sarif_doc(make_report(findings=[other]))["runs"][0]["results"][0]
    assert changed["partialFingerprints"] != before["partialFingerprints"]


def test_sarif_rule_table_comes_from_the_rule_data():
    rules = sarif_doc()["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["freed-in-unrealize", "subregion-not-deleted"]
    sub = rules[1]
    assert sub["name"] == "SubregionNotDeleted"
    assert sub["shortDescription"] == {"text": "Summary of subregion-not-deleted."}
    assert sub["fullDescription"] == {"text": RULE_SUB.doc.what}
    # the worst consequence a finding of the rule can have
    assert sub["defaultConfiguration"] == {"level": "error"}
    assert rules[0]["defaultConfiguration"] == {"level": "error"}
    assert sub["help"]["text"] == explain.render(RULE_SUB)
    markdown = sub["help"]["markdown"]
    for heading in ("What it finds", "Why it is a bug", "Known problems", "Bad example",
                    "Good example", "QEMU references", "Applies to", "Consequences", "Severity"):
        assert f"## {heading}\n" in markdown
    assert "```c\nstatic void foo_realize" in markdown
    assert "QEMU 2.0 up to (not including) 11.0" in markdown


def test_sarif_notices_are_tool_notifications():
    invocation = sarif_doc()["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True
    notes = invocation["toolExecutionNotifications"]
    assert [(n["level"], n["message"]["text"],
             n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             n["locations"][0]["physicalLocation"]["region"]["startLine"]) for n in notes] == [
        ("note", "could not analyse: file could not be preprocessed", "hw/audio/qux.c", 12),
        ("note", "could not analyse: function zed_init: unsupported construct", "hw/net/zed.c", 300),
    ]


def test_sarif_is_byte_identical_whatever_the_input_order():
    first = run(sarif.report, make_report())
    assert first.endswith("}\n")
    shuffled = make_report(findings=(F_SUB, F_BAR, F_FREED), notices=NOTICES[::-1],
                           rules=(RULE_FREED, RULE_SUB))
    assert run(sarif.report, shuffled) == first


def test_sarif_uri_is_percent_encoded():
    f = dataclasses.replace(F_BAR, loc=Location("hw/odd dir/a#b.c", 1, 1))
    result = sarif_doc(make_report(findings=[f]))["runs"][0]["results"][0]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "hw/odd%20dir/a%23b.c"


# -- explain ------------------------------------------------------------------

SECTIONS = ("What it finds", "Why it is a bug", "Known problems", "Bad example",
            "Good example", "QEMU references", "Applies to", "Consequences", "Severity")


def test_explain_has_every_section_in_order():
    lines = explain.render(RULE_SUB).splitlines()
    assert lines[0] == "subregion-not-deleted (missing-release)"
    assert "Summary of subregion-not-deleted." in lines
    positions = [lines.index(heading) for heading in SECTIONS]
    assert positions == sorted(positions)
    body = "\n".join(lines)
    assert "Finds subregion-not-deleted.\nSecond line of what." in body
    assert "Containers reached through tables are not followed." in body
    assert "    memory_region_add_subregion(get_system_memory(), 0, &s->mmio);" not in lines
    assert "        memory_region_add_subregion(get_system_memory(), 0, &s->mmio);" in lines
    assert "    static void foo_unrealize(DeviceState *dev)" in lines
    assert "  - docs/devel/memory.rst: Region lifecycle" in lines
    assert "QEMU 2.0 up to (not including) 11.0" in lines
    # a missing release: what the traits of the family and the phase make of it
    consequences = lines[lines.index("Consequences") + 1:lines.index("Severity")]
    assert "  - stale-guest-mapping: stale guest mapping (error when the device can be hot-unplugged)" \
        in consequences
    assert "  - leak-per-unplug: leak per unplug (warning when the device can be hot-unplugged)" in consequences
    assert lines[lines.index("Severity") + 1].startswith("by consequence (above)")
    assert not any(line != line.rstrip() for line in lines)


def test_explain_without_known_problems_or_unplug_raise():
    out = explain.render(RULE_FREED)
    assert "Known problems" not in out
    lines = out.splitlines()
    # a misplaced release: its consequences, the worst of which is the
    # rule's default level in SARIF
    consequences = lines[lines.index("Consequences") + 1:lines.index("Severity") - 1]
    assert [c.split(":")[0] for c in consequences] == [
        "  - stale-guest-mapping", "  - use-after-free-on-teardown", "  - use-after-free-in-flight",
        "  - api-misuse"]
    assert explain.default_severity(RULE_FREED) == "error"
    assert lines[lines.index("Applies to") + 1] == "QEMU 2.0 up to (not including) 11.0"


# -- fingerprints --------------------------------------------------------------

def test_fingerprints_are_unique_when_one_function_repeats_a_finding():
    # two findings of one rule on one resource in one function: same identity
    first = dataclasses.replace(F_SUB, loc=Location("hw/misc/foo.c", 120, 5))
    second = dataclasses.replace(F_SUB, loc=Location("hw/misc/foo.c", 131, 5))
    assert first.fingerprint == second.fingerprint  # before numbering they collide
    numbered = number_findings([second, F_BAR, first])
    assert [(f.loc.line, f.occurrence) for f in numbered if f.device == "foo-device"] == [(120, 0), (131, 1)]
    prints = [f.fingerprint for f in numbered]
    assert len(set(prints)) == 3
    # the first occurrence keeps the plain fingerprint (the one a lone finding has)
    assert numbered[1].fingerprint == F_SUB.fingerprint
    # deterministic whatever the input order
    assert [f.fingerprint for f in number_findings([first, F_BAR, second])] == prints


def test_fingerprints_survive_unrelated_lines_moving():
    def at(line):
        return dataclasses.replace(F_SUB, loc=Location("hw/misc/foo.c", line, 5))
    before = {f.loc.line: f.fingerprint for f in number_findings([at(120), at(131)])}
    after = {f.loc.line: f.fingerprint for f in number_findings([at(127), at(138)])}  # 7 lines added above
    assert after[127] == before[120] and after[138] == before[131]


# -- GitLab Code Quality ---------------------------------------------------------

def test_gitlab_code_quality_report():
    issues = json.loads(run(gitlab.report, make_report()))
    assert [(i["location"]["path"], i["location"]["lines"]["begin"], i["check_name"]) for i in issues] == [
        ("hw/display/bar.c", 42, "subregion-not-deleted"),
        ("hw/misc/foo.c", 120, "subregion-not-deleted"),
        ("hw/misc/foo.c", 160, "freed-in-unrealize"),
    ]
    sub = issues[1]
    assert sub == {
        "type": "issue",
        "check_name": "subregion-not-deleted",
        "description": F_SUB.message + " [subregion-not-deleted]",
        "categories": ["Bug Risk"],
        "severity": "critical",
        "fingerprint": F_SUB.fingerprint,
        "location": {"path": "hw/misc/foo.c", "lines": {"begin": 120}},
    }
    assert [i["severity"] for i in issues] == ["minor", "critical", "minor"]
    assert len({i["fingerprint"] for i in issues}) == 3
    note = dataclasses.replace(F_BAR, severity="note")
    assert json.loads(run(gitlab.report, make_report(findings=[note])))[0]["severity"] == "info"
    assert run(gitlab.report, make_report(findings=())) == "[]\n"


# -- GitHub workflow commands ------------------------------------------------------

def test_github_annotations_one_per_finding():
    assert run(github.report, make_report()).splitlines() == [
        "::warning file=hw/display/bar.c,line=42,col=3,title=lifecheck subregion-not-deleted::"
        + F_BAR.message + " [subregion-not-deleted]",
        "::error file=hw/misc/foo.c,line=120,col=5,title=lifecheck subregion-not-deleted::"
        + F_SUB.message + " [subregion-not-deleted]",
        "::warning file=hw/misc/foo.c,line=160,col=9,title=lifecheck freed-in-unrealize::"
        + F_FREED.message + " [freed-in-unrealize]",
    ]


def test_github_escapes_data_and_properties():
    odd = dataclasses.replace(F_BAR, severity="note", loc=Location("hw/a,b:c%.c", 7, 2),
                              message="100% wrong\r\nsecond line: a, b")
    assert run(github.report, make_report(findings=[odd])) == (
        "::notice file=hw/a%2Cb%3Ac%25.c,line=7,col=2,title=lifecheck subregion-not-deleted::"
        "100%25 wrong%0D%0Asecond line: a, b [subregion-not-deleted]\n")


def test_github_verbose_adds_notices():
    lines = run(github.report, make_report(), verbose=True).splitlines()
    assert lines[3:] == [
        "::notice file=hw/audio/qux.c,line=12,title=lifecheck could not analyse::file could not be preprocessed",
        "::notice file=hw/net/zed.c,line=300,title=lifecheck could not analyse::"
        "function zed_init: unsupported construct",
    ]


def test_sarif_marks_results_new_against_a_baseline():
    rep = make_report()
    assert "baselineState" not in sarif_doc(rep)["runs"][0]["results"][0]
    rep.baseline = {"path": "b.json", "matched": 2, "stale": []}
    assert {r["baselineState"] for r in sarif_doc(rep)["runs"][0]["results"]} == {"new"}
