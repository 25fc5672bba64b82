"""SARIF 2.1.0 output, for code review tools and code scanning.

What the fields mean is a contract (DESIGN.md section 4): ``ruleId`` is the
slug, artifact URIs are relative to ``%SRCROOT%`` (the tree root, given no
URI so the output is the same on every machine), the first logical location
is the C function, ``properties`` carry resource, hook and device, and
``partialFingerprints`` hold ``Finding.fingerprint``, which ignores line
numbers.  Output is byte-identical for identical input.  Like every reporter
it sees only a ``Report`` and the rules' data; it knows nothing about
pycparser, the program model or the rules' analyses.
"""
from __future__ import annotations

import json
from typing import Dict, List
from urllib.parse import quote

from .. import explain
from ..findings import Finding, Report, notice_text
from ..fix.edits import replacements
from ..pipeline import SHOW_ALL_FLAG
from ..rules.catalog import RuleSpec

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "lifecheckFingerprint/v1"
LEVELS = ("error", "warning", "note")


def information_uri() -> str:
    """lifecheck's home page, from the package's metadata
    (``[project.urls] Homepage`` in pyproject.toml); "" when it has none."""
    try:
        from importlib.metadata import PackageNotFoundError, metadata
        entries = metadata("lifecheck").get_all("Project-URL") or []
    except (ImportError, PackageNotFoundError):
        return ""
    for entry in entries:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("homepage", "home", "repository", "source"):
            return url.strip()
    return ""


def _level(severity: str) -> str:
    return severity if severity in LEVELS else "warning"


def _camel_case(slug: str) -> str:
    return "".join(word.capitalize() for word in slug.split("-"))


def _physical(file: str, line: int, col: int = 0) -> dict:
    location = {"artifactLocation": {"uri": quote(file), "uriBaseId": SRCROOT}}
    if line >= 1:  # SARIF regions start at line 1; 0 means "whole file"
        region = {"startLine": line}
        if col >= 1:
            region["startColumn"] = col
        location["region"] = region
    return location


def _rule(spec: RuleSpec) -> dict:
    return {
        "id": spec.slug,
        "name": _camel_case(spec.slug),
        "shortDescription": {"text": spec.summary},
        "fullDescription": {"text": spec.doc.what.strip()},
        "help": {"text": explain.render(spec), "markdown": explain.render_markdown(spec)},
        "defaultConfiguration": {"level": explain.default_severity(spec)},
        "properties": {"kind": spec.kind, "qemuVersions": spec.versions_text()},
    }


def _fixes(fix) -> list:
    """A checked fix as SARIF ``fixes``: one artifactChange per file, a
    replacement per edit (an empty region inserts; whole lines are
    replaced from column 1 to column 1 of the line after)."""
    changes = []
    for file, edits in replacements(fix):
        changes.append({
            "artifactLocation": {"uri": quote(file), "uriBaseId": SRCROOT},
            "replacements": [{
                "deletedRegion": {"startLine": start, "startColumn": 1, "endLine": end, "endColumn": 1},
                **({"insertedContent": {"text": text}} if text else {}),
            } for start, end, text in edits],
        })
    return [{"description": {"text": fix.description}, "artifactChanges": changes}]


def _result(f: Finding, rule_index: Dict[str, int], baseline: bool = False, fix=None) -> dict:
    result = {"ruleId": f.rule}
    if f.rule in rule_index:
        result["ruleIndex"] = rule_index[f.rule]
    result.update({
        "level": _level(f.severity),
        "message": {"text": f.message},
        "locations": [{
            "physicalLocation": _physical(f.loc.file, f.loc.line, f.loc.col),
            "logicalLocations": [{"name": f.function, "kind": "function"}],
        }],
    })
    if f.related:
        result["relatedLocations"] = [
            {
                "id": i,
                "physicalLocation": _physical(r.loc.file, r.loc.line, r.loc.col),
                "message": {"text": r.message},
                "properties": {"role": r.role},
            }
            for i, r in enumerate(f.related, start=1)
        ]
    result["partialFingerprints"] = {FINGERPRINT_KEY: f.fingerprint}
    if baseline:
        result["baselineState"] = "new"  # known findings were filtered out
    if fix is not None and fix.fix is not None:
        result["fixes"] = _fixes(fix.fix)
    if f.consequence:
        result["rank"] = float(f.rank)   # 0-100: code review sorts by it
    result["properties"] = {"resource": f.resource, "hook": f.hook, "device": f.device}
    if f.consequence:
        result["properties"].update({"consequence": f.consequence, "inPrinciple": f.in_principle,
                                     "reach": f.reach})
    if fix is not None and fix.fix is None:
        result["properties"]["fix"] = f"none ({fix.none})"
    return result


def _notification(notice) -> dict:
    return {
        "level": "note",
        "message": {"text": notice_text(notice)},
        "locations": [{"physicalLocation": _physical(notice.file, notice.line)}],
        "properties": {"kind": notice.kind},
    }


def document(rep: Report) -> dict:
    """The SARIF log as plain data, keys in a fixed order."""
    rules: List[RuleSpec] = sorted(rep.rules, key=lambda spec: spec.slug)
    rule_index = {spec.slug: i for i, spec in enumerate(rules)}
    notices = sorted(rep.notices, key=lambda n: (n.file, n.line, n.kind, n.message))
    driver = {"name": "lifecheck", "version": rep.tool_version}
    homepage = information_uri()
    if homepage:
        driver["informationUri"] = homepage
    driver["rules"] = [_rule(spec) for spec in rules]
    notifications = [_notification(n) for n in notices]
    hidden = sum((rep.hidden or {}).values())
    if hidden:
        # what the default view hid is said where CI shows the run's notes
        notifications.insert(0, {"level": "note", "message": {"text": (
            f"{hidden} finding(s) that hold only in principle (devices never unplugged, paths never "
            f"taken) are not in the results; run with {SHOW_ALL_FLAG} to include them")},
            "properties": {"kind": "hidden-in-principle"}})
    run = {
        "tool": {"driver": driver},
        "invocations": [{
            "executionSuccessful": True,
            "toolExecutionNotifications": notifications,
        }],
        "originalUriBaseIds": {SRCROOT: {"description": {"text": "the QEMU tree root"}}},
        "results": [_result(f, rule_index, rep.baseline is not None, rep.fixes.get(f.fingerprint))
                    for f in sorted(rep.findings, key=lambda f: f.sort_key())],
        "properties": {
            "qemuVersion": rep.version,
            "files": rep.files,
            "functionsFound": rep.functions_found,
            "functionsRecovered": rep.functions_recovered,
            "functionsGuessed": rep.functions_guessed,
            **({"hiddenInPrinciple": dict(sorted(rep.hidden.items()))} if rep.hidden is not None else {}),
        },
    }
    return {"$schema": SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def report(rep: Report, out) -> None:
    """Write ``rep`` as a SARIF 2.1.0 log to the text stream ``out``."""
    out.write(json.dumps(document(rep), indent=2) + "\n")
