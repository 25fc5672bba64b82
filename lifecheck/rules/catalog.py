"""Rule and API data: loading and validating the files under rules/.

Each rule is one TOML file (rules/<slug>.toml) that names its analysis kind
(lifecheck/rules/kinds/), its configuration and its documentation; the
configuration is read into the kind's typed dataclass (schema.py), so a
misspelt key, phase, root, family or message placeholder stops the run with
the file and the key named.  API knowledge (which calls acquire or release
what) lives in rules/api/*.toml.  This module only reads data; it knows
nothing about C or about the analyses.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ..facts.api import ATTRS, IF_ARGS, ON_FAILURE, ROLES, TRAITS, ApiCall, ApiFamily
from ..facts.reach import CallbackTableError, check_table as check_callback_table
from ..facts.runtime import SetterTableError, check_setters
from ..folders import default_rules_dir  # (lifecheck.rules.catalog.default_rules_dir, as before)
from . import schema
from .kinds import KINDS
from .schema import RuleDataError
from .spec import PHASES, RuleDoc, RuleSpec, parse_version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

__all__ = ["ApiCall", "ApiFamily", "Catalog", "PHASES", "RuleDataError", "RuleDoc", "RuleSpec",
           "default_rules_dir", "load_api", "load_catalog", "load_rule", "parse_version"]

SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass
class Catalog:
    rules: Dict[str, RuleSpec] = field(default_factory=dict)
    families: Dict[str, ApiFamily] = field(default_factory=dict)
    tables: Dict[str, dict] = field(default_factory=dict)  # other data: hooks, hotplug bases

    def api_functions(self) -> List[str]:
        """Every function an API family names."""
        return sorted({c.function for fam in self.families.values() for c in fam.calls})

    def opaque_functions(self) -> List[str]:
        """The functions whose bodies the program does not follow, because
        a family says what they do: those of reviewed families only.  A
        mined family is a guess; it adds notes but must not hide what the
        function does inside (eeprom93xx_new()'s vmstate registration)."""
        return sorted({c.function for fam in self.families.values() if not fam.mined for c in fam.calls})


def _load_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise RuleDataError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise RuleDataError(f"{path}: cannot read: {exc.strerror}") from None


def _need(data: dict, key: str, kind, path: Path, where: str = ""):
    if key not in data:
        raise RuleDataError(f"{path}: missing key '{where}{key}'")
    value = data[key]
    if not isinstance(value, kind):
        raise RuleDataError(f"{path}: key '{where}{key}' must be {kind.__name__}")
    return value


_RULE_KEYS = ("slug", "kind", "summary", "config", "doc", "versions")
_DOC_KEYS = ("what", "why", "bad", "good", "references", "known_problems")


def load_rule(path: Path) -> RuleSpec:
    data = _load_toml(path)
    unknown = sorted(set(data) - set(_RULE_KEYS))
    if unknown:
        raise RuleDataError(f"{path}: unknown key '{unknown[0]}'; allowed: {', '.join(_RULE_KEYS)}")
    slug = _need(data, "slug", str, path)
    if not SLUG_RE.match(slug):
        raise RuleDataError(f"{path}: slug '{slug}' is not a lower-case-hyphenated noun phrase")
    kind_name = _need(data, "kind", str, path)
    kind = KINDS.get(kind_name)
    if kind is None:
        raise RuleDataError(f"{path}: key 'kind': unknown kind '{kind_name}'; allowed: {', '.join(sorted(KINDS))}")
    doc = _need(data, "doc", dict, path)
    unknown = sorted(set(doc) - set(_DOC_KEYS))
    if unknown:
        raise RuleDataError(f"{path}: unknown key 'doc.{unknown[0]}'; allowed: {', '.join(_DOC_KEYS)}")
    references = _need(doc, "references", list, path, "doc.")
    if not all(isinstance(r, str) for r in references):
        raise RuleDataError(f"{path}: key 'doc.references' must be a list of strings")
    known_problems = doc.get("known_problems", "")
    if not isinstance(known_problems, str):
        raise RuleDataError(f"{path}: key 'doc.known_problems' must be a string")
    rdoc = RuleDoc(
        what=_need(doc, "what", str, path, "doc."),
        why=_need(doc, "why", str, path, "doc."),
        bad=_need(doc, "bad", str, path, "doc."),
        good=_need(doc, "good", str, path, "doc."),
        references=tuple(references),
        known_problems=known_problems,
    )
    low, high = _versions(data, path, "")
    config = schema.parse(kind.config, data.get("config", {}), path, "config", kind.placeholders)
    return RuleSpec(
        slug=slug, kind=kind_name, summary=_need(data, "summary", str, path), doc=rdoc,
        config=config, min_version=low, max_version=high, source=str(path),
    )


_FAMILY_KEYS = {"name", "header", "old_headers", "summary", "must_release", "versions", "traits",
                "mined"} | set(ROLES)
_CALL_KEYS = {"function", "resource", "container", "owner", "attrs", "versions", "on_failure", "if_args", "keeps"}


def _if_args(call: dict, path: Path, where: str):
    """``if_args = { null = [1, 2], not_null = [1, 2] }``: what the
    arguments must be for a call to be this entry."""
    table = call.get("if_args")
    if table is None:
        return ()
    if not isinstance(table, dict) or not table:
        raise RuleDataError(f"{path}: key '{where}if_args' must be a table like {{ null = [1, 2] }}")
    out = []
    for what, value in table.items():
        if what not in IF_ARGS:
            raise RuleDataError(f"{path}: key '{where}if_args.{what}': unknown; "
                                f"allowed: {', '.join(sorted(IF_ARGS))}")
        if not isinstance(value, list) or not value or not all(
                isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in value):
            raise RuleDataError(f"{path}: key '{where}if_args.{what}' must be a list of argument indexes")
        out.append((what, tuple(value)))
    return tuple(out)


def _versions(data: dict, path: Path, where: str):
    versions = data.get("versions", {})
    if not isinstance(versions, dict):
        raise RuleDataError(f"{path}: key '{where}versions' must be a table like {{ min = \"8.0\" }}")
    unknown = set(versions) - {"min", "max"}
    if unknown:
        raise RuleDataError(f"{path}: key '{where}versions' has unknown keys {sorted(unknown)}")
    try:
        low = parse_version(versions["min"]) if "min" in versions else None
        high = parse_version(versions["max"]) if "max" in versions else None
    except (ValueError, TypeError) as exc:
        raise RuleDataError(f"{path}: {where}versions: {exc}") from None
    return low, high


def _on_failure(call: dict, role: str, path: Path, where: str):
    """``on_failure = { releases = 1, released_as = "fd", wipes = 0 }`` (an
    index or a list of them per key): what a failing acquire call has done
    to its arguments, and the family of what it released."""
    table = call.get("on_failure")
    if table is None:
        return (), None
    if role != "acquire" or not isinstance(table, dict):
        raise RuleDataError(f"{path}: key '{where}on_failure' must be a table, on an acquire call")
    out = []
    released_as = table.get("released_as")
    if released_as is not None and not isinstance(released_as, str):
        raise RuleDataError(f"{path}: key '{where}on_failure.released_as' must be a family name")
    for what, value in table.items():
        if what == "released_as":
            continue
        if what not in ON_FAILURE:
            raise RuleDataError(f"{path}: key '{where}on_failure.{what}': unknown; "
                                f"allowed: {', '.join(sorted(ON_FAILURE))}")
        for index in value if isinstance(value, list) else [value]:
            if not isinstance(index, int) or isinstance(index, bool) or index < 0:
                raise RuleDataError(f"{path}: key '{where}on_failure.{what}' must be an argument "
                                    "index or a list of them")
            out.append((what, index))
    return tuple(out), released_as


def _names(table: dict, key: str, allowed, what: str, path: Path, where: str) -> list:
    """The list of names at ``key`` of ``table``, each one of ``allowed``."""
    names = table.get(key, [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise RuleDataError(f"{path}: key '{where}{key}' must be a list of strings")
    for n in names:
        if n not in allowed:
            raise RuleDataError(f"{path}: key '{where}{key}': unknown {what} '{n}'; "
                                f"allowed: {', '.join(allowed)}")
    return names


def load_api(path: Path) -> List[ApiFamily]:
    data = _load_toml(path)
    families = []
    for i, fam in enumerate(_need(data, "family", list, path)):
        where = f"family[{i}]."
        if not isinstance(fam, dict):
            raise RuleDataError(f"{path}: family[{i}] must be a table")
        unknown = set(fam) - _FAMILY_KEYS
        if unknown:
            raise RuleDataError(f"{path}: {where[:-1]} has unknown keys {sorted(unknown)}")
        name = _need(fam, "name", str, path, where)
        header = _need(fam, "header", str, path, where)
        must = fam.get("must_release", False)
        if not isinstance(must, bool):
            raise RuleDataError(f"{path}: key '{where}must_release' must be true or false")
        mined = fam.get("mined", False)
        if not isinstance(mined, bool):
            raise RuleDataError(f"{path}: key '{where}mined' must be true or false")
        old = fam.get("old_headers", [])
        if not isinstance(old, list) or not all(isinstance(h, str) for h in old):
            raise RuleDataError(f"{path}: key '{where}old_headers' must be a list of paths")
        traits = _names(fam, "traits", TRAITS, "trait", path, where)
        low, high = _versions(fam, path, where)
        calls = []
        for role in ROLES:
            entries = fam.get(role, [])
            if not isinstance(entries, list):
                raise RuleDataError(f"{path}: key '{where}{role}' must be a list of tables")
            for j, call in enumerate(entries):
                cw = f"{where}{role}[{j}]."
                if not isinstance(call, dict):
                    raise RuleDataError(f"{path}: {cw[:-1]} must be a table")
                unknown = set(call) - _CALL_KEYS
                if unknown:
                    raise RuleDataError(f"{path}: {cw[:-1]} has unknown keys {sorted(unknown)}")
                resource = call.get("resource", 0)
                if not isinstance(resource, int) or isinstance(resource, bool) or resource < -1:
                    raise RuleDataError(f"{path}: key '{cw}resource' must be an argument index or -1")
                container = call.get("container")
                if container is not None and (not isinstance(container, int) or isinstance(container, bool)):
                    raise RuleDataError(f"{path}: key '{cw}container' must be an argument index")
                owner = call.get("owner")
                if owner is not None and (not isinstance(owner, int) or isinstance(owner, bool) or owner < 0):
                    raise RuleDataError(f"{path}: key '{cw}owner' must be an argument index")
                attrs = _names(call, "attrs", ATTRS, "attr", path, cw)
                if "frees-argument" in attrs and role != "release":
                    raise RuleDataError(f"{path}: key '{cw}attrs': 'frees-argument' is for release calls")
                clow, chigh = _versions(call, path, cw)
                on_failure, released_as = _on_failure(call, role, path, cw)
                keeps = call.get("keeps", [])
                if not isinstance(keeps, list) or not all(isinstance(i, int) and not isinstance(i, bool)
                                                          and i >= 0 for i in keeps):
                    raise RuleDataError(f"{path}: key '{cw}keeps' must be a list of argument indexes")
                if keeps and role != "acquire":
                    raise RuleDataError(f"{path}: key '{cw}keeps' is for acquire calls")
                calls.append(ApiCall(
                    function=_need(call, "function", str, path, cw), role=role,
                    resource=resource, container=container, attrs=tuple(attrs),
                    min_version=clow, max_version=chigh, owner=owner, on_failure=on_failure, released_as=released_as,
                    if_args=_if_args(call, path, cw), keeps=tuple(keeps),
                ))
        if not any(c.role == "acquire" for c in calls) or not any(c.role == "release" for c in calls):
            raise RuleDataError(f"{path}: {where[:-1]} ('{name}') needs acquire and release calls")
        families.append(ApiFamily(name=name, header=header, calls=tuple(calls), source=str(path),
                                  summary=fam.get("summary", "") or name, must_release=must,
                                  old_headers=tuple(old), min_version=low, max_version=high,
                                  traits=tuple(traits), mined=mined))
    return families


def load_catalog(dirs: Optional[List[Path]] = None) -> Catalog:
    """Load every rule, API and table file from ``dirs`` (default: the
    bundled rules/).  Later folders add to and override earlier ones."""
    catalog = Catalog()
    for base in dirs or [default_rules_dir()]:
        base = Path(base)
        if not base.is_dir():
            raise RuleDataError(f"{base}: rules folder not found")
        for path in sorted(base.glob("*.toml")):
            spec = load_rule(path)
            catalog.rules[spec.slug] = spec
        for path in sorted((base / "api").glob("*.toml")):
            for fam in load_api(path):
                catalog.families[fam.name] = fam
        for path in sorted((base / "tables").glob("*.toml")):
            catalog.tables[path.stem] = _load_toml(path)
            if path.stem == "callbacks":
                try:
                    check_callback_table(catalog.tables[path.stem])
                except CallbackTableError as exc:
                    raise RuleDataError(f"{path}: {exc}") from None
            if path.stem == "hooks":
                try:
                    check_setters(catalog.tables[path.stem])
                except SetterTableError as exc:
                    raise RuleDataError(f"{path}: {exc}") from None
    _check_references(catalog)
    return catalog


def _check_references(catalog: Catalog) -> None:
    """Every family and API function a rule names exists in the loaded API
    table."""
    functions = {c.function for fam in catalog.families.values() for c in fam.calls}
    for fam in catalog.families.values():
        for c in fam.calls:
            if c.released_as is not None and c.released_as not in catalog.families:
                raise RuleDataError(f"{fam.source}: family '{fam.name}', {c.function}: key "
                                    f"'on_failure.released_as': unknown API family '{c.released_as}'"
                                    + _closest(c.released_as, catalog.families))
    for spec in catalog.rules.values():
        for key, domain, name in schema.references(spec.config):
            if domain == schema.FAMILY and name not in catalog.families:
                raise RuleDataError(f"{spec.source}: key '{key}': unknown API family '{name}'"
                                    + _closest(name, catalog.families))
            if domain == schema.API_FUNCTION and name not in functions:
                raise RuleDataError(f"{spec.source}: key '{key}': '{name}' is not a function of "
                                    "any API family" + _closest(name, functions))


def _closest(name: str, known) -> str:
    import difflib
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
