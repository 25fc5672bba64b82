"""What the teardown kinds (second release, use after release) share: the
releases of the device's own memory along one teardown."""
from __future__ import annotations

from typing import FrozenSet, List

from ...facts import Facts
from ...facts.api import Op
from ...graph import DeviceType
from ...model import SELF

TEARDOWN = ("unrealize", "instance_finalize")


def teardown_releases(facts: Facts, dev: DeviceType, chosen: FrozenSet[str]) -> List[Op]:
    """Releases of fields of the device (not of the device itself), in
    teardown order."""
    device = facts.device(dev)
    out = []
    for phase in TEARDOWN:
        for op in device.ops[phase]:
            if op.role == "release" and op.family in chosen and op.path is not None \
                    and op.path.root == SELF and op.path.steps:
                out.append(op)
    return out
