"""Reading a rule's ``[config]`` table into its kind's typed configuration.

Each rule kind declares its configuration as a frozen dataclass whose
fields carry ``spec.meta(domain, doc)``.  ``parse`` turns a TOML table into
an instance, or raises ``RuleDataError`` naming the file, the key and the
allowed values: an unknown key (with the closest known one), a value of
the wrong type, a phase, root, severity, resource predicate or message
placeholder that does not exist.  Names that other data defines (API
families, their functions) are checked by ``references`` once every file
is loaded.

Supported field types: ``str``, ``bool``, ``Tuple[str, ...]`` (a TOML list,
or a single string for one element), ``Optional[Tuple[str, ...]]``
(domain "family-set": "must_release" or a list of families), a nested
dataclass (a table) and ``Tuple[<dataclass>, ...]`` (a list of tables).
"""
from __future__ import annotations

import dataclasses
import difflib
import string
import sys
import typing
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

from ..facts.api import ROOTS, TRAITS
from ..facts.device import RESOURCE_PREDICATES
from ..findings import CONSEQUENCES
from .spec import PHASES, SEVERITIES, parse_version


class RuleDataError(Exception):
    """A rule or API file is malformed.  The message names the file and key."""


# domains whose values are fixed by lifecheck itself
DOMAINS: Dict[str, Tuple[str, ...]] = {
    "phase": PHASES,
    "root": tuple(ROOTS),
    "severity": SEVERITIES,
    "resource-predicate": tuple(RESOURCE_PREDICATES),
    "resource-filter": ("container-outside-device",),
    "device-filter": ("finalize-deferred",),
    "consequence": tuple(CONSEQUENCES),
    "trait": tuple(TRAITS),
}
# domains checked against the loaded API table (``references``)
FAMILY, FAMILY_SET, API_FUNCTION = "family", "family-set", "api-function"
MUST_RELEASE = "must_release"


def parse(cls: type, data: Any, path: Path, where: str, placeholders: Iterable[str] = ()) -> Any:
    """An instance of the dataclass ``cls`` from the TOML table ``data``
    found at key ``where`` (e.g. "config") of the file ``path``."""
    if not isinstance(data, dict):
        raise RuleDataError(f"{path}: key '{where}' must be a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise RuleDataError(f"{path}: unknown key '{where}.{key}'; {hint}"
                            f"allowed: {', '.join(sorted(fields))}")
    values = {}
    for name, value in data.items():
        f = fields[name]
        values[name] = _value(hints[name], f.metadata.get("domain", ""), value, path,
                              f"{where}.{name}", placeholders)
    missing = [n for n, f in fields.items() if n not in values
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise RuleDataError(f"{path}: missing key '{where}.{missing[0]}'")
    return cls(**values)


def _value(hint: Any, domain: str, value: Any, path: Path, key: str, placeholders) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union and type(None) in args:   # Optional[...]: the family set
        if domain == FAMILY_SET and value == MUST_RELEASE:
            return None
        inner = args[0] if args[1] is type(None) else args[1]
        return _value(inner, FAMILY if domain == FAMILY_SET else domain, value, path, key, placeholders)
    if hint is bool:
        if not isinstance(value, bool):
            raise RuleDataError(f"{path}: key '{key}' must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise RuleDataError(f"{path}: key '{key}' must be a whole number >= 0")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise RuleDataError(f"{path}: key '{key}' must be a string")
        _check_domain(domain, value, path, key, placeholders)
        return value
    if dataclasses.is_dataclass(hint):
        return parse(hint, value, path, key, placeholders)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = args[0]
        if item is str and isinstance(value, str):
            value = [value]   # one phase, one family: the list may be left out
        if not isinstance(value, list):
            what = "a list of tables" if dataclasses.is_dataclass(item) else "a list of strings"
            raise RuleDataError(f"{path}: key '{key}' must be {what}")
        return tuple(_value(item, domain, v, path, f"{key}[{i}]", placeholders) for i, v in enumerate(value))
    raise TypeError(f"lifecheck.rules.schema: no reader for {hint!r} ({key})")   # a lifecheck bug


def _check_domain(domain: str, value: str, path: Path, key: str, placeholders) -> None:
    if domain in DOMAINS:
        allowed = DOMAINS[domain]
        if value not in allowed:
            close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise RuleDataError(f"{path}: key '{key}': unknown {domain} '{value}'; {hint}"
                                f"allowed: {', '.join(allowed)}")
    elif domain == "version":
        try:
            parse_version(value)
        except ValueError:
            raise RuleDataError(f"{path}: key '{key}': '{value}' is not a QEMU version "
                                "(e.g. \"10.1\")") from None
    elif domain == "message":
        allowed = sorted(placeholders)
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
        except ValueError as exc:
            raise RuleDataError(f"{path}: key '{key}': not a valid message template: {exc}") from None
        for name in names:
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
                hint = f"did you mean '{{{close[0]}}}'? " if close else ""
                raise RuleDataError(f"{path}: key '{key}': unknown placeholder '{{{name}}}'; {hint}"
                                    f"allowed: {', '.join('{' + a + '}' for a in allowed)}")


def references(obj: Any, where: str = "config") -> Iterator[Tuple[str, str, str]]:
    """(key, domain, name) of every value of ``obj`` (a parsed
    configuration) that names something the API table defines."""
    for f in dataclasses.fields(obj):
        domain = f.metadata.get("domain", "")
        value = getattr(obj, f.name)
        key = f"{where}.{f.name}"
        for i, item in enumerate(value if isinstance(value, tuple) else (value,)):
            item_key = f"{key}[{i}]" if isinstance(value, tuple) else key
            if dataclasses.is_dataclass(item):
                yield from references(item, item_key)
            elif isinstance(item, str) and domain in (FAMILY, FAMILY_SET, API_FUNCTION):
                yield item_key, FAMILY if domain == FAMILY_SET else domain, item


def describe(cls: type) -> List[Tuple[str, str, str]]:
    """(key, type, what it is) of every key of the configuration ``cls``,
    for documentation."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        domain = f.metadata.get("domain", "")
        out.append((f.name, _type_text(hints[f.name], domain), f.metadata.get("doc", "")))
    return out


def _type_text(hint: Any, domain: str) -> str:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if domain == FAMILY_SET:
        return '"must_release" or list of families'
    if origin is tuple:
        item = args[0]
        return ("list of tables" if dataclasses.is_dataclass(item)
                else f"list of {domain + 's' if domain else 'strings'}")
    if hint is bool:
        return "true/false"
    if dataclasses.is_dataclass(hint):
        return "table"
    return domain or "string"
