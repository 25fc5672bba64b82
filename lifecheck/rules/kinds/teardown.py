"""What the teardown kinds (second release, use after release) share: the
releases of the device's own memory along one teardown."""
from __future__ import annotations

from typing import FrozenSet, List

from ...facts import Facts
from ...facts.api import Op
from ...graph import DeviceType
from ...model import SELF

TEARDOWN = ("unrealize", "instance_finalize")


def teardown_releases(facts: Facts, dev: DeviceType, chosen: FrozenSet[str],
                      itself: bool = False) -> List[Op]:
    """Releases of fields of the device, in teardown order; with
    ``itself``, also the releases that name the device itself
    (``pcie_aer_exit(dev)``, ``virtio_cleanup(vdev)``), except those that
    release every resource of their family (``virtio_del_queue()``)."""
    device = facts.device(dev)
    out = []
    for phase in TEARDOWN:
        for op in device.ops[phase]:
            if op.role == "release" and op.family in chosen and op.path is not None \
                    and op.path.root == SELF \
                    and (op.path.steps or (itself and "all" not in op.attrs)):
                out.append(op)
    return out
