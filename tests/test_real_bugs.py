"""Real lifetime bugs from QEMU's history (tests/data/real-bugs.json: present
in the case's buggy tree, 7.2 or 10.2.2, and fixed in its fixed tree, 10.2.2
or 10.0.13, the 2026 stable release): lifecheck must report each on the
buggy tree and no longer on the fixed one.

Each case is analysed with the files it needs (the device and the code its
hooks reach), not the whole tree, to keep the test short.  A case lifecheck
cannot find yet is listed in KNOWN_GAPS with the reason; the test fails when
a gap starts passing, so the list cannot rot."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import REPO, check_tree

CASES = json.loads((REPO / "tests" / "data" / "real-bugs.json").read_text())

# bug class (real-bugs.json) -> the rules that report it
RULES_FOR_CLASS = {
    # chr-handlers-not-removed: a registration left at unrealize, the
    # leak-on-unrealize of a family the framework reclaims only at finalize
    "leak-on-unrealize": {"leak-on-unrealize", "chr-handlers-not-removed"},
    "init-leak": {"init-leak"},
    "realize-error-leak": {"realize-error-leak"},
    "teardown-order": {"unparent-in-finalize", "freed-in-unrealize", "double-release",
                       "use-after-release", "leak-on-unrealize", "request-not-cancelled",
                       "strong-link-to-parent", "region-owner-not-device", "chr-handlers-not-removed"},
}

# what else each case needs analysed (callers of a library, bus cores)
CONTEXT = {
    "hda-codec-buft-timer": ["hw/audio/intel-hda.c"],
    "register-block-unparent-finalize": ["hw/misc/xlnx-zynqmp-crf.c"],
    "vfio-region-unparent-finalize": ["hw/vfio/pci.c", "hw/vfio/display.c", "hw/vfio/region.c"],
    "virtio-gpu-base-vqs": ["hw/display/virtio-gpu.c", "hw/virtio/virtio.c"],
    "pcie-sriov-manual-unrealize": ["hw/nvme/ctrl.c"],
}

# "qemu_7.2+dfsg" -> "7.2" (the version conftest.fetch_qemu knows)
def _version(tree_name: str) -> str:
    return tree_name.split("_", 1)[1].split("+", 1)[0]


KNOWN_GAPS = {
    "virtio-9p-unrealize-with-inflight-pdus":
        "the PDUs in flight run in coroutines that pdu_submit() starts from the virtqueue "
        "handler: the coroutine function comes from a table indexed by the request "
        "(pdu_co_handlers[pdu->id]), not a function name; the opaque is a PDU taken from "
        "the device's free list by a helper (pdu_alloc(s)), whose pointer to the device "
        "(pdu->s) was set at realize, which the per-request reasoning of "
        "request-not-cancelled (req->dev = s in the requesting function) does not cover; "
        "and the fix (v9fs_reset before the teardown) waits for the active PDUs rather "
        "than cancelling a call the callbacks table names",
    "pcie-sriov-manual-unrealize":
        "the VFs are created from a config-space write (a runtime path lifecheck does not "
        "follow from the PF), and the bug is forcing realized=false before unparenting, "
        "an ordering no rule models yet",
}

LINE_SLACK = 10


def _files(tree: Path, case: dict):
    wanted = [case["file"]] + CONTEXT.get(case["id"], [])
    return [tree / f for f in wanted if (tree / f).is_file()]


def _matches(report, case: dict, near_line: bool):
    rules = RULES_FOR_CLASS[case["class"]]
    out = []
    for f in report.findings:
        if f.rule in rules and f.loc.file == case["file"]:
            if not near_line or abs(f.loc.line - case["buggy_line"]) <= LINE_SLACK:
                out.append(f)
    return out


@pytest.mark.realtree
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_found_on_the_buggy_tree_and_gone_on_the_fixed_one(case, qemu_tree, catalog):
    buggy_tree = qemu_tree(_version(case["buggy_tree"]))
    fixed_tree = qemu_tree(_version(case["fixed_tree"]))
    old = check_tree(buggy_tree, _files(buggy_tree, case), catalog)
    found = _matches(old, case, near_line=True)
    if case["id"] in KNOWN_GAPS:
        assert not found, f"known gap now found, remove it from KNOWN_GAPS: {found}"
        pytest.skip(f"known gap: {KNOWN_GAPS[case['id']]}")
    assert found, (f"{case['id']}: no {sorted(RULES_FOR_CLASS[case['class']])} finding near "
                   f"{case['file']}:{case['buggy_line']} on {case['buggy_tree']}; got "
                   f"{[(f.rule, f.loc.line, f.resource) for f in old.findings]}")
    new_files = _files(fixed_tree, case)
    if not new_files or not (fixed_tree / case["file"]).is_file():
        return  # the file is gone in the fixed tree: nothing left to report
    new = check_tree(fixed_tree, new_files, catalog)
    resources = {f.resource for f in found}
    still = [f for f in _matches(new, case, near_line=False) if f.resource in resources]
    assert not still, f"{case['id']}: still reported on {case['fixed_tree']}: {[(f.rule, f.loc.line, f.resource) for f in still]}"
