"""Facts the rule kinds share: the API index, each device's facts, and the
order of calls.

This layer sits between the lifecycle graph (``lifecheck.graph``) and the
rule kinds (``lifecheck.rules``): it reads the linked program and the API
table, and knows nothing about rules, their configuration, findings or
output.  What it computes is computed once per run (per device, per
event) and shared by every rule.
"""
from __future__ import annotations

from typing import Dict, Iterable, Optional, Tuple

from ..graph import DeviceType, Program
from .api import ApiFamily, ApiIndex
from .device import DeviceFacts, SegmentFacts
from .order import Order
from .reach import Reach
from .runtime import RuntimeEntries
from .summary import Summaries


class Facts:
    """What every rule may ask about the program of one run."""

    def __init__(self, program: Program, families: Iterable[ApiFamily], tables: dict,
                 version: Optional[Tuple[int, ...]] = None):
        self.program = program
        self.tables = tables
        self.version = version
        self.api = ApiIndex(families, version)
        # what helpers return, at every call of one (facts/summary.py)
        self.summaries = Summaries(program, self.api)
        self.api.call_effects = self.summaries.effects
        self.order = Order(program)
        self.reach = Reach(program, tables.get("callbacks", {}))
        # the callbacks and property setters a device runs while it lives
        self.runtime = RuntimeEntries(program, self.reach, tables.get("hooks", {}))
        self._devices: Dict[str, DeviceFacts] = {}
        self._segments: Dict[int, SegmentFacts] = {}   # see DeviceFacts

    def device(self, dev: DeviceType) -> DeviceFacts:
        f = self._devices.get(dev.name)
        if f is None:
            f = self._devices[dev.name] = DeviceFacts(self.program, dev, self.api, self.tables,
                                                      reach=self.reach, order=self.order, runtime=self.runtime,
                                                      shared=self._segments)
        return f
