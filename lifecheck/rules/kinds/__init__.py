"""The registry of rule kinds.

A rule file names one of these kinds (``kind = "leak"``) and configures
it.  A new kind is one module here that defines ``KIND`` (see base.Kind)
plus one line in ``_MODULES``.
"""
from __future__ import annotations

from typing import Dict

from . import (deviant_exit, deviant_teardown, double_release, error_path_leak, heap_region, leak,
               missing_release, parent_link, region_owner, uncancelled_request, use_after_release,
               wrong_phase_release)
from .base import Kind

_MODULES = (missing_release, wrong_phase_release, leak, error_path_leak, deviant_exit, deviant_teardown,
            double_release,
            use_after_release, heap_region, parent_link,
            region_owner, uncancelled_request)

KINDS: Dict[str, Kind] = {m.KIND.name: m.KIND for m in _MODULES}
