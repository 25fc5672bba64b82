"""JSON output: a stable document for scripts and baselines.

Byte-identical for identical input: keys sorted, findings in
``Finding.sort_key()`` order, notices sorted, no absolute paths (the tree
root is left out so the output does not depend on where the tree sits) and
no timestamps.  Like every reporter it sees only a ``Report``; it knows
nothing about pycparser, the program model or the rules' analyses.
"""
from __future__ import annotations

import json

from ..findings import Finding, Report, lost_reached_from_hooks


def _location(loc) -> dict:
    return {"file": loc.file, "line": loc.line, "column": loc.col}


def _finding(f: Finding) -> dict:
    return {
        "rule": f.rule,
        "severity": f.severity,
        **_location(f.loc),
        "message": f.message,
        "function": f.function,
        "resource": f.resource,
        "hook": f.hook,
        "device": f.device,
        "fingerprint": f.fingerprint,
        "related": [
            {**_location(r.loc), "message": r.message, "role": r.role}
            for r in f.related
        ],
        # what goes wrong and when; how bad (0-100); whether it holds only
        # in principle (then shown only with --show-all) and why
        "consequence": f.consequence,
        "rank": f.rank,
        "in_principle": f.in_principle,
        "reach": f.reach,
        # only for a finding about a mined, unreviewed API family
        **({"mined": True} if f.mined else {}),
    }


def document(rep: Report) -> dict:
    """The JSON document as plain data."""
    notices = sorted(rep.notices, key=lambda n: (n.file, n.line, n.kind, n.message))
    doc = {
        "version": rep.tool_version,
        "qemu_version": rep.version,
        "findings": [_finding(f) for f in sorted(rep.findings, key=lambda f: f.sort_key())],
        "notices": [
            {"file": n.file, "line": n.line, "kind": n.kind, "message": n.message}
            for n in notices
        ],
        "stats": {
            "files": rep.files,
            "functions_found": rep.functions_found,
            "functions_recovered": rep.functions_recovered,
            "functions_guessed": rep.functions_guessed,
            "lost_functions_reached_from_hooks": lost_reached_from_hooks(rep),
            "files_yielding_nothing": list(rep.empty_files),
            "files_without_functions": rep.files_without_functions,
            "lost_reasons": dict(sorted((rep.lost_reasons or {}).items())),
            "suppressed": rep.suppressed,
            # findings the default view hid, by severity (they hold only in
            # principle; --show-all includes them); absent with --show-all
            **({"hidden_in_principle": dict(sorted(rep.hidden.items()))} if rep.hidden is not None else {}),
        },
    }
    if rep.baseline is not None:
        # only with --baseline: how many known findings were hidden, and the
        # entries that matched nothing (fixed, or moved to another function)
        doc["baseline"] = rep.baseline
    return doc


def report(rep: Report, out) -> None:
    """Write ``rep`` as JSON to the text stream ``out``."""
    out.write(json.dumps(document(rep), sort_keys=True, indent=2) + "\n")
