"""Baselines: how a tree with old findings adopts lifecheck.

``lifecheck baseline FILE`` writes the current findings; ``--baseline FILE``
then reports only findings whose fingerprint is not in it.  Fingerprints
ignore line numbers (``Finding.fingerprint``), so unrelated edits do not
reopen old findings.  Entries that match no finding any more (fixed, or the
code moved to another function) are "stale" and reported, so the file can
be refreshed; they never fail a run.  Entries about files that were not
analysed, or rules that did not run, are neither matched nor stale.

The file is JSON, sorted, without timestamps, so it diffs well in review.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List

from .findings import Finding, Report
from .suppress import UNUSED

FORMAT = "lifecheck-baseline"
FORMAT_VERSION = 1


class BaselineError(Exception):
    """The baseline file cannot be read; the message names it."""


def entry(f: Finding) -> dict:
    return {
        "fingerprint": f.fingerprint,
        "rule": f.rule,
        "file": f.loc.file,
        "line": f.loc.line,   # for people reading the file; never matched
        "function": f.function,
        "resource": f.resource,
        "device": f.device,
        "message": " ".join(f.message.split()),
    }


def document(rep: Report) -> dict:
    entries = [entry(f) for f in sorted(rep.findings, key=lambda f: f.sort_key())]
    return {"format": FORMAT, "version": FORMAT_VERSION, "qemu_version": rep.version,
            "findings": entries}


def write(rep: Report, path: Path) -> int:
    """Write the findings of ``rep`` to ``path``; returns how many."""
    doc = document(rep)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return len(doc["findings"])


def load(path: Path) -> Dict[str, dict]:
    """The entries of a baseline file, by fingerprint."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc.strerror} "
                            f"(create it with 'lifecheck baseline {path}')") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: not a lifecheck baseline (invalid JSON: {exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BaselineError(f"{path}: not a lifecheck baseline (no \"format\": \"{FORMAT}\")")
    if doc.get("version") != FORMAT_VERSION:
        raise BaselineError(f"{path}: baseline format version {doc.get('version')!r} is not "
                            f"{FORMAT_VERSION}; rewrite it with 'lifecheck baseline {path}'")
    entries = doc.get("findings")
    if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("fingerprint"), str) for e in entries):
        raise BaselineError(f"{path}: key 'findings' must be a list of entries with a fingerprint")
    return {e["fingerprint"]: e for e in entries}


def apply(rep: Report, entries: Dict[str, dict], label: str) -> None:
    """Keep only findings not in ``entries``; record matched and stale
    entries in ``rep.baseline``."""
    current = {f.fingerprint for f in rep.findings}
    ran = {spec.slug for spec in rep.rules} | {UNUSED}  # suppressions are always checked
    analysed = set(rep.analysed_files) | {f.loc.file for f in rep.findings}
    rep.findings = [f for f in rep.findings if f.fingerprint not in entries]
    matched = sum(1 for fp in entries if fp in current)
    stale: List[dict] = [
        e for fp, e in entries.items()
        if fp not in current and e.get("file") in analysed and e.get("rule") in ran
    ]
    stale.sort(key=lambda e: (str(e.get("file")), e.get("line") or 0, str(e.get("rule")),
                              e["fingerprint"]))
    rep.baseline = {"path": label, "matched": matched, "stale": stale}
