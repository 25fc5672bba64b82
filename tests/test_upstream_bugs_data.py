"""The development set of upstream lifetime fixes (tests/data/upstream-bugs.json,
scored by scripts/score_upstream.py, docs/upstream-bugs.md) is well formed
and disjoint from the real bugs the tests are tuned on.  Needs no QEMU tree:
the scoring itself is script-only."""
from __future__ import annotations

import json
import sys

from conftest import QEMU_RELEASES, REPO
from test_real_bugs import RULES_FOR_CLASS, _version

sys.path.insert(0, str(REPO / "scripts"))
import score_upstream  # noqa: E402

CASES = json.loads((REPO / "tests" / "data" / "upstream-bugs.json").read_text())
REAL = json.loads((REPO / "tests" / "data" / "real-bugs.json").read_text())

REQUIRED = {"id": str, "class": str, "file": str, "buggy_tree": str, "fixed_tree": str,
            "function": str, "hook": str, "resource": str, "api": str, "buggy_line": int,
            "fix_summary": str, "evidence": str}
OPTIONAL = {"context": list, "resource_key": list, "fix_group": str}


def test_every_case_has_the_real_bugs_fields_and_known_values():
    for case in CASES:
        for key, kind in REQUIRED.items():
            assert isinstance(case.get(key), kind), (case.get("id"), key)
        for key, kind in OPTIONAL.items():
            assert key not in case or isinstance(case[key], kind), (case["id"], key)
        assert set(case) <= set(REQUIRED) | set(OPTIONAL), (case["id"], set(case) - set(REQUIRED) - set(OPTIONAL))
        assert case["class"] in RULES_FOR_CLASS, case["id"]
        assert _version(case["buggy_tree"]) in QEMU_RELEASES, case["id"]
        assert _version(case["fixed_tree"]) in QEMU_RELEASES, case["id"]
        assert case["buggy_tree"] != case["fixed_tree"], case["id"]
        assert case["buggy_line"] > 0 and case["file"].startswith("hw/"), case["id"]


def test_ids_are_unique_and_no_case_is_a_real_bugs_case():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    real_ids = {c["id"] for c in REAL}
    real_sites = {(c["file"], c["function"]) for c in REAL}
    assert not real_ids & set(ids)
    assert not [c["id"] for c in CASES if (c["file"], c["function"]) in real_sites]


def test_missing_reasons_name_cases_of_the_set():
    ids = {c["id"] for c in CASES}
    assert set(score_upstream.MISSING) <= ids
    for reason, text in score_upstream.MISSING.values():
        assert reason and text
