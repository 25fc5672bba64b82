"""Rule and API data: loading and validating the files under rules/.

Each rule is one TOML file (rules/<slug>.toml) that names its analysis kind,
its configuration and its documentation.  API knowledge (which calls acquire
or release what) lives in rules/api/*.toml.  This module only reads data; it
knows nothing about C or about the analyses.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ..folders import default_rules_dir  # (lifecheck.rules.catalog.default_rules_dir, as before)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
RULE_KINDS = ("missing-release", "wrong-phase-release", "leak", "error-path-leak",
              "double-release", "use-after-release")
ROLES = ("acquire", "release", "disarm")
PHASES = ("instance_init", "realize", "unrealize", "instance_finalize", "runtime")


class RuleDataError(Exception):
    """A rule or API file is malformed.  The message names the file and key."""


@dataclass(frozen=True)
class RuleDoc:
    what: str
    why: str
    bad: str
    good: str
    references: Tuple[str, ...]
    known_problems: str = ""


@dataclass(frozen=True)
class RuleSpec:
    slug: str
    kind: str
    summary: str
    doc: RuleDoc
    config: dict
    min_version: Optional[Tuple[int, ...]] = None   # inclusive
    max_version: Optional[Tuple[int, ...]] = None   # exclusive
    source: str = ""

    def applies_to(self, version: Optional[Tuple[int, ...]]) -> bool:
        if version is None:
            return True
        if self.min_version is not None and version < self.min_version:
            return False
        if self.max_version is not None and version >= self.max_version:
            return False
        return True

    def versions_text(self) -> str:
        low = ".".join(map(str, self.min_version)) if self.min_version else None
        high = ".".join(map(str, self.max_version)) if self.max_version else None
        if low and high:
            return f"QEMU {low} up to (not including) {high}"
        if low:
            return f"QEMU {low} and later"
        if high:
            return f"QEMU before {high}"
        return "all QEMU versions"


@dataclass(frozen=True)
class ApiCall:
    """One function of an API family and which argument is the resource."""

    function: str
    role: str                 # "acquire" | "release" | "disarm"
    resource: int             # argument index; -1: the return value
    container: Optional[int] = None
    attrs: Tuple[str, ...] = ()
    min_version: Optional[Tuple[int, ...]] = None
    max_version: Optional[Tuple[int, ...]] = None

    def applies_to(self, version: Optional[Tuple[int, ...]]) -> bool:
        return _in_range(version, self.min_version, self.max_version)


@dataclass(frozen=True)
class ApiFamily:
    """A kind of resource and the calls that acquire, release and disarm it.

    ``must_release``: a device that acquires it must release it itself
    (the leak rules apply); false for what QOM or the framework reclaims."""

    name: str
    header: str
    calls: Tuple[ApiCall, ...]
    source: str = ""
    summary: str = ""
    must_release: bool = False
    old_headers: Tuple[str, ...] = ()
    min_version: Optional[Tuple[int, ...]] = None
    max_version: Optional[Tuple[int, ...]] = None

    def applies_to(self, version: Optional[Tuple[int, ...]]) -> bool:
        return _in_range(version, self.min_version, self.max_version)


def _in_range(version, low, high) -> bool:
    if version is None:
        return True
    if low is not None and version < low:
        return False
    if high is not None and version >= high:
        return False
    return True


@dataclass
class Catalog:
    rules: Dict[str, RuleSpec] = field(default_factory=dict)
    families: Dict[str, ApiFamily] = field(default_factory=dict)
    tables: Dict[str, dict] = field(default_factory=dict)  # other data: hooks, hotplug bases

    def api_functions(self) -> List[str]:
        """Every function an API family names."""
        return sorted({c.function for fam in self.families.values() for c in fam.calls})

    def calls_of(self, family: str, role: str) -> List[ApiCall]:
        fam = self.families.get(family)
        if fam is None:
            return []
        return [c for c in fam.calls if c.role == role]


def parse_version(text: str) -> Tuple[int, ...]:
    parts = re.findall(r"\d+", text)
    if not parts:
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(p) for p in parts[:3])


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


def load_rule(path: Path) -> RuleSpec:
    data = _load_toml(path)
    slug = _need(data, "slug", str, path)
    if not SLUG_RE.match(slug):
        raise RuleDataError(f"{path}: slug '{slug}' is not a lower-case-hyphenated noun phrase")
    kind = _need(data, "kind", str, path)
    if kind not in RULE_KINDS:
        raise RuleDataError(f"{path}: kind '{kind}' is not one of {', '.join(RULE_KINDS)}")
    doc = _need(data, "doc", dict, path)
    rdoc = RuleDoc(
        what=_need(doc, "what", str, path, "doc."),
        why=_need(doc, "why", str, path, "doc."),
        bad=_need(doc, "bad", str, path, "doc."),
        good=_need(doc, "good", str, path, "doc."),
        references=tuple(_need(doc, "references", list, path, "doc.")),
        known_problems=doc.get("known_problems", ""),
    )
    versions = data.get("versions", {})
    try:
        low = parse_version(versions["min"]) if "min" in versions else None
        high = parse_version(versions["max"]) if "max" in versions else None
    except ValueError as exc:
        raise RuleDataError(f"{path}: versions: {exc}") from None
    config = data.get("config", {})
    if not isinstance(config, dict):
        raise RuleDataError(f"{path}: key 'config' must be a table")
    for key in ("phase", "phases", "release_phases", "acquire_phases"):
        for phase in _as_list(config.get(key, [])):
            if phase not in PHASES:
                raise RuleDataError(f"{path}: config.{key}: unknown phase '{phase}'")
    return RuleSpec(
        slug=slug, kind=kind, summary=_need(data, "summary", str, path), doc=rdoc,
        config=config, min_version=low, max_version=high, source=str(path),
    )


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


_FAMILY_KEYS = {"name", "header", "old_headers", "summary", "must_release", "versions"} | set(ROLES)
_CALL_KEYS = {"function", "resource", "container", "attrs", "versions"}


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
        old = fam.get("old_headers", [])
        if not isinstance(old, list) or not all(isinstance(h, str) for h in old):
            raise RuleDataError(f"{path}: key '{where}old_headers' must be a list of paths")
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
                attrs = call.get("attrs", [])
                if not isinstance(attrs, list) or not all(isinstance(a, str) for a in attrs):
                    raise RuleDataError(f"{path}: key '{cw}attrs' must be a list of strings")
                clow, chigh = _versions(call, path, cw)
                calls.append(ApiCall(
                    function=_need(call, "function", str, path, cw), role=role,
                    resource=resource, container=container, attrs=tuple(attrs),
                    min_version=clow, max_version=chigh,
                ))
        if not any(c.role == "acquire" for c in calls) or not any(c.role == "release" for c in calls):
            raise RuleDataError(f"{path}: {where[:-1]} ('{name}') needs acquire and release calls")
        families.append(ApiFamily(name=name, header=header, calls=tuple(calls), source=str(path),
                                  summary=fam.get("summary", "") or name, must_release=must,
                                  old_headers=tuple(old), min_version=low, max_version=high))
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
    for spec in catalog.rules.values():
        families = spec.config.get("families", [])
        if families == "must_release":   # every family marked must_release
            families = []
        for fam in _as_list(families) + _as_list(spec.config.get("exclude_families", [])) \
                + _as_list(spec.config.get("local_families", [])):
            if fam not in catalog.families:
                raise RuleDataError(f"{spec.source}: config.families names unknown API family '{fam}'")
    return catalog
