"""The QOM names the frontend recognises, read from rules/tables/qom.toml.

Which calls are casts, which register types, which set a class field, and
which fields of ``TypeInfo`` and ``Property`` the model reads are data, so a
QEMU API change is a data change.  The table is read once per process, from
the bundled rules folder only (a file's model is cached per file and must
not depend on a run's ``--rules-dir``).

This module reads TOML and knows the table's layout; it knows nothing of
pycparser, the model or the rule catalog (it must not import
lifecheck.rules: the frontend sits below it).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, FrozenSet, Optional, Tuple

from ..folders import default_rules_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

# the keys of [type_info] and [property] (the model's names for the fields)
TYPE_INFO_FIELDS = ("name", "parent", "instance_init", "instance_finalize", "class_init",
                    "class_data", "abstract")
PROPERTY_FIELDS = ("info", "offset", "array_offset")
_TOP_KEYS = ("transparent_calls", "register_calls", "type_info", "property", "class_field_setters",
             "class_casts")


class QomTableError(Exception):
    """qom.toml is malformed (a lifecheck bug: the file is bundled).  The
    message names the file and the key."""


@dataclass(frozen=True)
class ClassFieldSetter:
    """A call that sets a class field to its second argument
    (``device_class_set_parent_realize(dc, f, &parent)``)."""
    call: str
    class_type: str
    field: str
    chained: bool = False       # also saves the old value: HookBinding.chained
    class_data: bool = False    # the value may come from class_init's class_data


@dataclass(frozen=True)
class QomNames:
    transparent_calls: FrozenSet[str]
    register_calls: FrozenSet[str]
    type_info_struct: str
    type_info: Dict[str, str]          # TYPE_INFO_FIELDS -> C field of TypeInfo
    property_struct: str
    property: Dict[str, str]           # PROPERTY_FIELDS -> C field of Property
    setters: Dict[str, ClassFieldSetter]   # call -> what it sets
    class_casts: Dict[str, str]        # class cast function -> class struct


def table_path() -> Path:
    """The QOM table the frontend reads."""
    return default_rules_dir() / "tables" / "qom.toml"


_NAMES: Optional[QomNames] = None


def qom_names() -> QomNames:
    """The table, read on first use and kept for the process."""
    global _NAMES
    if _NAMES is None:
        _NAMES = load(table_path())
    return _NAMES


def load(path: Path) -> QomNames:
    """Read and check one QOM table."""
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise QomTableError(f"{path}: cannot read: {exc}") from None

    def fail(key: str, what: str) -> QomTableError:
        return QomTableError(f"{path}: key '{key}': {what}")

    unknown = set(data) - set(_TOP_KEYS)
    if unknown:
        raise fail(sorted(unknown)[0], "unknown key")

    def names(key: str) -> FrozenSet[str]:
        value = data.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise fail(key, "must be a list of names")
        return frozenset(value)

    def struct_fields(key: str, fields: Tuple[str, ...]) -> Tuple[str, Dict[str, str]]:
        table = data.get(key)
        if not isinstance(table, dict):
            raise fail(key, "must be a table")
        out = {}
        for name in ("struct",) + fields:
            if not isinstance(table.get(name), str) or not table[name]:
                raise fail(f"{key}.{name}", "must be a name")
            out[name] = table[name]
        unknown = set(table) - set(out)
        if unknown:
            raise fail(f"{key}.{sorted(unknown)[0]}", "unknown key")
        return out.pop("struct"), out

    setters: Dict[str, ClassFieldSetter] = {}
    entries = data.get("class_field_setters")
    if not isinstance(entries, list):
        raise fail("class_field_setters", "must be a list of tables")
    for i, entry in enumerate(entries):
        where = f"class_field_setters[{i}]"
        if not isinstance(entry, dict):
            raise fail(where, "must be a table")
        for name in ("call", "class", "field"):
            if not isinstance(entry.get(name), str) or not entry[name]:
                raise fail(f"{where}.{name}", "must be a name")
        for name in ("chained", "class_data"):
            if not isinstance(entry.get(name, False), bool):
                raise fail(f"{where}.{name}", "must be true or false")
        unknown = set(entry) - {"call", "class", "field", "chained", "class_data"}
        if unknown:
            raise fail(f"{where}.{sorted(unknown)[0]}", "unknown key")
        setters[entry["call"]] = ClassFieldSetter(entry["call"], entry["class"], entry["field"],
                                                  entry.get("chained", False), entry.get("class_data", False))
    casts = data.get("class_casts")
    if not isinstance(casts, dict) or not all(isinstance(v, str) and v for v in casts.values()):
        raise fail("class_casts", "must be a table of cast = \"ClassStruct\"")
    type_info_struct, type_info = struct_fields("type_info", TYPE_INFO_FIELDS)
    property_struct, prop = struct_fields("property", PROPERTY_FIELDS)
    return QomNames(transparent_calls=names("transparent_calls"), register_calls=names("register_calls"),
                    type_info_struct=type_info_struct, type_info=type_info,
                    property_struct=property_struct, property=prop,
                    setters=setters, class_casts=dict(casts))
