"""``lifecheck.toml``: per-tree settings, read as data.

The file sits at the tree root (``lifecheck.toml`` or ``.lifecheck.toml``)
or is named with ``--config``.  Every key is optional::

    select = ["subregion-not-deleted"]     # run only these rules
    ignore = ["unparent-in-finalize"]      # never run these
    fail-on = "warning"                    # error | warning | note
    baseline = "lifecheck-baseline.json"   # known findings (see baseline.py)
    rules-dirs = ["scripts/lifecheck"]     # extra rule/API folders
    show-all = true                        # also findings that hold only in principle

    [severity]                             # per-rule severity override
    subregion-not-deleted = "error"

    [per-path-ignores]                     # glob or folder -> rules ("*": all)
    "hw/xen/" = ["*"]
    "hw/misc/foo-*.c" = ["freed-in-unrealize"]

Paths are relative to the file's folder.  Command-line flags override the
file.  Errors name the file, the line and the key.  This module reads data
only; it knows nothing about C or the analyses.
"""
from __future__ import annotations

import fnmatch
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

CONFIG_NAMES = ("lifecheck.toml", ".lifecheck.toml")
SEVERITY_LEVELS = ("error", "warning", "note")
ALL_RULES = "*"
KEYS = ("select", "ignore", "fail-on", "baseline", "rules-dirs", "show-all", "severity", "per-path-ignores")


class ConfigError(Exception):
    """The configuration file is malformed; the message says where."""


@dataclass
class Config:
    path: Optional[Path] = None
    select: Optional[List[str]] = None
    ignore: List[str] = field(default_factory=list)
    fail_on: Optional[str] = None
    baseline: Optional[Path] = None
    rules_dirs: List[Path] = field(default_factory=list)
    severity: Dict[str, str] = field(default_factory=dict)
    per_path_ignores: List[Tuple[str, Tuple[str, ...]]] = field(default_factory=list)
    show_all: Optional[bool] = None
    text: str = ""

    def error(self, key: str, message: str, table: str = "") -> ConfigError:
        """A ConfigError naming this file, the line of ``key`` and the key."""
        line = line_of(self.text, table, key)
        where = f"{self.path}:{line}" if line else f"{self.path}"
        full = f"{table}.{key}" if table else key
        return ConfigError(f"{where}: key '{full}': {message}")

    def check_rules(self, known: Iterable[str]) -> None:
        """Refuse rule names that are not in the catalog."""
        known = set(known)
        for key in ("select", "ignore"):
            for slug in getattr(self, key.replace("-", "_")) or []:
                if slug not in known:
                    raise self.error(key, f"unknown rule '{slug}' (see 'lifecheck explain')")
        for slug in self.severity:
            if slug not in known:
                raise self.error(slug, f"unknown rule '{slug}' (see 'lifecheck explain')", "severity")
        for pattern, rules in self.per_path_ignores:
            for slug in rules:
                if slug != ALL_RULES and slug not in known:
                    raise self.error(pattern, f"unknown rule '{slug}' (see 'lifecheck explain')",
                                     "per-path-ignores")


def path_matches(path: str, pattern: str) -> bool:
    """A per-path pattern matches a file by glob (``*`` crosses ``/``) or
    as a folder prefix (``hw/xen`` and ``hw/xen/`` match ``hw/xen/a.c``)."""
    if fnmatch.fnmatchcase(path, pattern):
        return True
    folder = pattern.rstrip("/")
    return bool(folder) and path.startswith(folder + "/")


_TABLE_RE = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")


def line_of(text: str, table: str, key: str) -> int:
    """The line (1-based) where ``key`` is set in ``[table]`` ("" for the
    top level), or where the table starts; 0 when not found.  tomllib does
    not say where a value came from, so errors about values look here."""
    key_re = re.compile(r"^\s*(?:\"{0}\"|'{0}'|{0})\s*=".format(re.escape(key)))
    current = ""
    table_line = 0
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TABLE_RE.match(line)
        if header and not line.lstrip().startswith("[["):
            current = header.group(1).strip().strip('"')
            if current == table:
                table_line = number
            continue
        if current == table and key_re.match(line):
            return number
    if table and not table_line:
        # an inline table: ``severity = { ... }``
        return line_of(text, "", table)
    return table_line


def find_config(root: Path) -> Optional[Path]:
    """The configuration file at the tree root, if there is one."""
    found = [root / name for name in CONFIG_NAMES if (root / name).is_file()]
    if len(found) > 1:
        raise ConfigError(f"{found[0]} and {found[1]} both exist; keep one")
    return found[0] if found else None


def _string_list(cfg: Config, data: dict, key: str, table: str = "") -> List[str]:
    value = data[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise cfg.error(key, "must be a list of strings", table)
    return list(value)


def load_config(path: Path) -> Config:
    """Read and check ``path``.  Raises ConfigError naming file, line, key."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # the message ends with "(at line N, column M)"
        m = re.search(r"at line (\d+)", str(exc))
        line = m.group(1) if m else max(1, len(text.splitlines())) if "end of document" in str(exc) else ""
        where = f"{path}:{line}" if line else str(path)
        raise ConfigError(f"{where}: not valid TOML: {exc}") from None
    cfg = Config(path=path, text=text)
    base = path.parent
    for key in data:
        if key not in KEYS:
            raise cfg.error(key, f"unknown key (known: {', '.join(KEYS)})")
    if "select" in data:
        cfg.select = _string_list(cfg, data, "select")
    if "ignore" in data:
        cfg.ignore = _string_list(cfg, data, "ignore")
    if "fail-on" in data:
        if data["fail-on"] not in SEVERITY_LEVELS:
            raise cfg.error("fail-on", f"must be one of {', '.join(SEVERITY_LEVELS)}")
        cfg.fail_on = data["fail-on"]
    if "baseline" in data:
        if not isinstance(data["baseline"], str) or not data["baseline"]:
            raise cfg.error("baseline", "must be a file name")
        cfg.baseline = base / data["baseline"]
    if "rules-dirs" in data:
        for name in _string_list(cfg, data, "rules-dirs"):
            folder = base / name
            if not folder.is_dir():
                raise cfg.error("rules-dirs", f"rules folder '{name}' not found (looked for {folder})")
            cfg.rules_dirs.append(folder)
    if "show-all" in data:
        if not isinstance(data["show-all"], bool):
            raise cfg.error("show-all", "must be true or false")
        cfg.show_all = data["show-all"]
    if "severity" in data:
        table = data["severity"]
        if not isinstance(table, dict):
            raise cfg.error("severity", "must be a table of rule = severity")
        for slug, level in table.items():
            if level not in SEVERITY_LEVELS:
                raise cfg.error(slug, f"must be one of {', '.join(SEVERITY_LEVELS)}", "severity")
            cfg.severity[slug] = level
    if "per-path-ignores" in data:
        table = data["per-path-ignores"]
        if not isinstance(table, dict):
            raise cfg.error("per-path-ignores", "must be a table of path = [rules]")
        for pattern in table:
            rules = _string_list(cfg, table, pattern, "per-path-ignores")
            cfg.per_path_ignores.append((pattern, tuple(rules)))
    return cfg
