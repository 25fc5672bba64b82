"""A persistent per-file cache of translation units.

The frontend (preprocess, parse, extract) costs about a tenth of a second
per file; the rules run over the whole program in a fraction of that.  This
cache keeps each file's ``TranslationUnit`` between runs, so a rerun only
redoes the files whose inputs changed.

The cache is layered the way the analysis is.  A unit entry (what the
frontend made of one file) is valid when all of these are unchanged:
- the content of the file and of every file the preprocessor read for it
  (its include closure, taken from the line markers, stubs and the prelude
  included), compared by SHA-256 (hashes of shared headers are computed
  once per run);
- the frontend: lifecheck's version and the hash of the code and data the
  frontend reads (``FRONTEND_SOURCES``, the frontend's data files);
- the preprocessing configuration (the compiler command without the file)
  and the parser's versions.
It does not depend on the rule data or on the code of the layers above the
frontend: a new rule file re-runs the rules, never the parser.  A run
entry (the findings of a whole run, kept when every unit was a hit) also
depends on all of lifecheck's code and on the rule data (``run_key``).

Where: ``$LIFECHECK_CACHE_DIR``, else ``$XDG_CACHE_HOME/lifecheck``, else
``~/.cache/lifecheck``; entries sit under ``units/<tree>/`` where ``<tree>``
is a hash of the tree root, never inside the analysed tree.

Format: data, never code.  An entry is a magic word, the SHA-256 of the
payload and the payload: zlib-compressed JSON holding a format number, the
key, the include closure with hashes and the unit, each dataclass written
as the list of its fields.  Reading checks the checksum, then decodes
against the model's type hints and rejects anything of the wrong shape; any
problem is a cache miss, the file is analysed again and the entry
rewritten.  Writes go to a temporary file in the same folder, then
``os.replace``: two runs sharing one cache never see half an entry.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import operator
import os
import sys
import tempfile
import typing
import zlib
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from . import __version__, model
from .folders import cache_root  # noqa: F401  (lifecheck.cache.cache_root, as before)
from .model import TranslationUnit

FORMAT = 1
_MAGIC = b"LCU1"
_DIGEST = 32


class CacheMiss(Exception):
    """Internal: an entry is missing, stale or unreadable."""


# --- where ---------------------------------------------------------------

def tree_namespace(tree_root: Path) -> str:
    return hashlib.sha256(str(tree_root).encode("utf-8", "surrogateescape")).hexdigest()[:16]


# --- what the key is made of ---------------------------------------------

def _canonical(obj: Any, out: List[str]) -> None:
    """A stable text for plain data: dataclasses, dicts, sequences, sets
    (sorted), paths and scalars.  Used to hash the rule catalog."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out.append(type(obj).__name__ + "(")
        for f in dataclasses.fields(obj):
            if f.name == "source":
                continue  # where the data was read from (an installed or a source tree), not what it says
            out.append(f.name + "=")
            _canonical(getattr(obj, f.name), out)
            out.append(",")
        out.append(")")
    elif isinstance(obj, dict):
        out.append("{")
        for k in sorted(obj, key=repr):
            out.append(repr(k) + ":")
            _canonical(obj[k], out)
            out.append(",")
        out.append("}")
    elif isinstance(obj, (list, tuple)):
        out.append("[")
        for item in obj:
            _canonical(item, out)
            out.append(",")
        out.append("]")
    elif isinstance(obj, (set, frozenset)):
        out.append("{")
        parts = []
        for item in obj:
            sub: List[str] = []
            _canonical(item, sub)
            parts.append("".join(sub))
        out.append(",".join(sorted(parts)))
        out.append("}")
    elif isinstance(obj, (str, int, float, bool, type(None), Path)):
        out.append(repr(obj))
    else:  # anything else: its type is enough to notice a change of shape
        out.append(type(obj).__name__)


def data_hash(obj: Any) -> str:
    """SHA-256 of the canonical text of ``obj`` (e.g. the rule catalog)."""
    out: List[str] = []
    _canonical(obj, out)
    return hashlib.sha256("".join(out).encode("utf-8", "surrogateescape")).hexdigest()


# The code the frontend's output depends on, relative to the package: the
# frontend itself, the model it fills in and this module's codec.
# tests/test_cache.py checks that the frontend imports nothing else of
# lifecheck.
FRONTEND_SOURCES = ("__init__.py", "model.py", "cache.py", "limits.py", "folders.py", "frontend")

_HASHES: Dict[str, str] = {}


def _code_hash(parts: Sequence[str], extra_files: Sequence[Path] = ()) -> str:
    h = hashlib.sha256(__version__.encode())
    pkg = Path(__file__).resolve().parent
    files: List[Path] = []
    for part in parts:
        where = pkg / part
        if where.is_dir():
            files += list(where.rglob("*.py")) + list(where.rglob("*.h"))
        elif where.exists():
            files.append(where)
    for path in sorted(files):
        try:
            h.update(path.relative_to(pkg).as_posix().encode())
            h.update(path.read_bytes())
        except OSError:
            h.update(b"?")
    for path in extra_files:
        try:
            h.update(b"data:" + Path(path).name.encode())
            h.update(Path(path).read_bytes())
        except OSError:
            h.update(b"?")
    return f"{__version__}+{h.hexdigest()[:20]}"


def tool_hash() -> str:
    """lifecheck's version plus a hash of all its code and prelude: a
    development build that changes any layer invalidates old run
    entries even when the version number stays the same."""
    if "tool" not in _HASHES:
        _HASHES["tool"] = _code_hash(["."])
    return _HASHES["tool"]


def frontend_hash() -> str:
    """lifecheck's version plus a hash of the code and data the frontend's
    output depends on (not the rules, the graph or the reporters)."""
    if "frontend" not in _HASHES:
        from .frontend import data_files
        _HASHES["frontend"] = _code_hash(FRONTEND_SOURCES, data_files())
    return _HASHES["frontend"]


class ContentHasher:
    """SHA-256 of files, each read once per run (memoised by path)."""

    def __init__(self) -> None:
        self._memo: Dict[str, Optional[str]] = {}

    def __call__(self, path: str) -> Optional[str]:
        hit = self._memo.get(path, False)
        if hit is not False:
            return hit  # type: ignore[return-value]
        try:
            with open(path, "rb") as fh:
                digest: Optional[str] = hashlib.sha256(fh.read()).hexdigest()
        except OSError:
            digest = None
        self._memo[path] = digest
        return digest


# --- the codec: model dataclasses <-> JSON values --------------------------

Decoder = Callable[[Any], Any]
Encoder = Callable[[Any], Any]


def _fail(what: str) -> None:
    raise CacheMiss(what)


def _dec_str(v: Any) -> Any:
    if type(v) is not str:
        _fail("str")
    return v


def _dec_int(v: Any) -> Any:
    if type(v) is not int:
        _fail("int")
    return v


def _dec_bool(v: Any) -> Any:
    if type(v) is not bool:
        _fail("bool")
    return v


def _dec_float(v: Any) -> Any:
    if type(v) not in (int, float):
        _fail("float")
    return float(v)


def _ident(v: Any) -> Any:
    return v


_PRIMITIVES = (str, int, bool)


def _optional_of(hint: Any) -> Any:
    """X for Optional[X], else None."""
    if typing.get_origin(hint) is typing.Union:
        args = typing.get_args(hint)
        if len(args) == 2 and type(None) in args:
            return args[0] if args[1] is type(None) else args[1]
    return None


class _Codec:
    """Encoders and decoders for the model's dataclasses, built from their
    type hints, so a field added to the model is handled without touching
    this module (and changes the tool hash, so old entries are not read)."""

    def __init__(self) -> None:
        self._dec: Dict[Any, Decoder] = {}
        self._enc: Dict[Any, Encoder] = {}

    def decoder(self, hint: Any) -> Decoder:
        key = hint
        found = self._dec.get(key)
        if found is None:
            found = self._build_decoder(hint)
            self._dec[key] = found
        return found

    def encoder(self, hint: Any) -> Encoder:
        found = self._enc.get(hint)
        if found is None:
            found = self._build_encoder(hint)
            self._enc[hint] = found
        return found

    # decoders
    def _build_decoder(self, hint: Any) -> Decoder:
        if hint is str:
            return _dec_str
        if hint is int:
            return _dec_int
        if hint is bool:
            return _dec_bool
        if hint is float:
            return _dec_float
        if dataclasses.is_dataclass(hint):
            return self._dataclass_decoder(hint)
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin is typing.Union and len(args) == 2 and type(None) in args:
            inner_hint = args[0] if args[1] is type(None) else args[1]
            holder: List[Decoder] = []

            def dec_optional(v: Any) -> Any:
                return None if v is None else holder[0](v)
            self._dec[hint] = dec_optional
            holder.append(self.decoder(inner_hint))
            return dec_optional
        if origin in (tuple, list) and args:
            if args[0] in _PRIMITIVES and (origin is list or (len(args) == 2 and args[1] is Ellipsis)):
                prim, make = args[0], (list if origin is list else tuple)

                def dec_prim_seq(v: Any) -> Any:
                    if type(v) is not list:
                        _fail("list")
                    for x in v:
                        if type(x) is not prim:
                            _fail(prim.__name__)
                    return make(v)
                return dec_prim_seq
            if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
                item = self._lazy(args[0])

                def dec_var_tuple(v: Any) -> Any:
                    if type(v) is not list:
                        _fail("list")
                    d = item()
                    return tuple([d(x) for x in v])
                return dec_var_tuple
            if origin is tuple:
                items = [self._lazy(a) for a in args]

                def dec_fixed_tuple(v: Any) -> Any:
                    if type(v) is not list or len(v) != len(items):
                        _fail("tuple")
                    return tuple([f()(x) for f, x in zip(items, v)])
                return dec_fixed_tuple
            item = self._lazy(args[0])

            def dec_list(v: Any) -> Any:
                if type(v) is not list:
                    _fail("list")
                d = item()
                return [d(x) for x in v]
            return dec_list
        if origin is dict and len(args) == 2 and args[0] is str:
            value = self._lazy(args[1])

            def dec_dict(v: Any) -> Any:
                if type(v) is not dict:
                    _fail("dict")
                d = value()
                return {k: d(x) for k, x in v.items()}
            return dec_dict
        if origin is set or hint is set:
            # the model's sets hold names; JSON has no sets
            def dec_set(v: Any) -> Any:
                if type(v) is not list or any(type(x) is not str for x in v):
                    _fail("set")
                return set(v)
            return dec_set
        raise TypeError(f"lifecheck.cache: no codec for type {hint!r}")

    def _lazy(self, hint: Any) -> Callable[[], Decoder]:
        # recursive types (Expr holds Exprs): resolve on first use
        cell: List[Decoder] = []

        def get() -> Decoder:
            if not cell:
                cell.append(self.decoder(hint))
            return cell[0]
        return get

    def _dataclass_decoder(self, cls: type) -> Decoder:
        """A decoder written for ``cls``: type checks of str/int/bool
        fields inline, one call per nested value.  Decoding thousands of
        units is most of a warm run, so this is generated once per class
        from the class's own type hints (never from cache data)."""
        hints = typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))
        fields = [f for f in dataclasses.fields(cls) if f.init]
        holder: List[Decoder] = []

        def trampoline(v: Any) -> Any:  # for recursive fields, until built
            return holder[0](v)
        self._dec[cls] = trampoline
        ns: Dict[str, Any] = {"_cls": cls, "_fail": _fail}
        lines = ["def dec(v):",
                 f"    if type(v) is not list or len(v) != {len(fields)}:",
                 f"        _fail({cls.__name__!r})"]
        for i, f in enumerate(fields):
            hint = hints[f.name]
            inner = _optional_of(hint)
            lines.append(f"    a{i} = v[{i}]")
            if hint in _PRIMITIVES:
                lines.append(f"    if type(a{i}) is not {hint.__name__}: _fail({f.name!r})")
            elif inner in _PRIMITIVES:
                lines.append(f"    if a{i} is not None and type(a{i}) is not {inner.__name__}: "
                             f"_fail({f.name!r})")
            else:
                ns[f"d{i}"] = self.decoder(hint)
                lines.append(f"    a{i} = d{i}(a{i})")
        lines.append("    return _cls(" + ", ".join(f"a{i}" for i in range(len(fields))) + ")")
        exec("\n".join(lines), ns)  # our own source text, built from type hints above
        dec = ns["dec"]
        holder.append(dec)
        self._dec[cls] = dec
        return dec

    # encoders
    def _build_encoder(self, hint: Any) -> Encoder:
        if hint in (str, int, bool, float):
            return _ident
        if dataclasses.is_dataclass(hint):
            return self._dataclass_encoder(hint)
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin is typing.Union and len(args) == 2 and type(None) in args:
            inner = args[0] if args[1] is type(None) else args[1]
            holder: List[Encoder] = []

            def enc_optional(v: Any) -> Any:
                return None if v is None else holder[0](v)
            self._enc[hint] = enc_optional
            holder.append(self.encoder(inner))
            return enc_optional
        if origin in (tuple, list) and args:
            if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
                if all(_is_plain(a) for a in args):
                    return list
                encs_fixed = [self.encoder(a) for a in args]
                return lambda v: [e(x) for e, x in zip(encs_fixed, v)]
            if _is_plain(args[0]):
                return list
            item_enc = self.encoder(args[0])
            return lambda v: [item_enc(x) for x in v]
        if origin is dict and len(args) == 2 and args[0] is str:
            value_enc = self.encoder(args[1])
            return lambda v: {k: value_enc(x) for k, x in v.items()}
        if origin is set or hint is set:
            return lambda v: sorted(v)
        raise TypeError(f"lifecheck.cache: no codec for type {hint!r}")


    def _dataclass_encoder(self, cls: type) -> Encoder:
        """An encoder written for ``cls`` (like the decoders): fields of
        plain types are copied inline, one call per nested value."""
        hints = typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))
        fields = [f for f in dataclasses.fields(cls) if f.init]
        holder: List[Encoder] = []

        def trampoline(v: Any) -> Any:  # for recursive fields, until built
            return holder[0](v)
        self._enc[cls] = trampoline
        ns: Dict[str, Any] = {}
        parts = []
        for i, f in enumerate(fields):
            hint = hints[f.name]
            if not f.name.isidentifier():
                raise TypeError(f"lifecheck.cache: field name {f.name!r}")
            if _is_plain(hint):
                parts.append(f"v.{f.name}")
            else:
                ns[f"e{i}"] = self.encoder(hint)
                parts.append(f"e{i}(v.{f.name})")
        exec("def enc(v):\n    return [" + ", ".join(parts) + "]", ns)  # our own text, from type hints
        enc = ns["enc"]
        holder.append(enc)
        self._enc[cls] = enc
        return enc


def _is_plain(hint: Any) -> bool:
    """A value of this type is its own JSON value: str, int, bool, float,
    or Optional of one."""
    return hint in (str, int, bool, float) or _optional_of(hint) in (str, int, bool, float)


_CODEC = _Codec()


def encode(hint: Any, value: Any) -> Any:
    """The JSON value of ``value``, an instance of type ``hint`` (a model
    dataclass, or a list/tuple/dict/Optional of them)."""
    return _CODEC.encoder(hint)(value)


def decode(hint: Any, value: Any) -> Any:
    """Rebuild a value of type ``hint`` from JSON; raises CacheMiss on any
    value of the wrong shape or type."""
    return _CODEC.decoder(hint)(value)


def encode_unit(unit: TranslationUnit) -> Any:
    return encode(TranslationUnit, unit)


def decode_unit(value: Any) -> TranslationUnit:
    return decode(TranslationUnit, value)


_FIELDS_OF: Dict[type, Callable[[Any], Any]] = {}


def _json_default(value: Any) -> Any:
    """For json.dumps: a model dataclass as the tuple of its fields (what
    ``encode`` makes of it), a set as its sorted list."""
    fields_of = _FIELDS_OF.get(type(value))
    if fields_of is None:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            names = [f.name for f in dataclasses.fields(value) if f.init]
            if len(names) == 1:
                get = operator.attrgetter(names[0])
                fields_of = lambda v: (get(v),)  # noqa: E731
            else:
                fields_of = operator.attrgetter(*names)
        elif isinstance(value, (set, frozenset)):
            fields_of = sorted
        else:
            raise TypeError(f"lifecheck.cache: no codec for {type(value).__name__}")
        _FIELDS_OF[type(value)] = fields_of
    return fields_of(value)


def dumps_unit(unit: TranslationUnit) -> str:
    """``json.dumps(encode_unit(unit))``, compact, in one pass of json's C
    encoder: it asks ``_json_default`` only for the dataclasses, and writes
    the lists, tuples, strings and numbers itself (the same text, in 40 %
    less time than building the JSON value first)."""
    return json.dumps(unit, default=_json_default, **_DUMPS)


# --- entries ---------------------------------------------------------------
#
# An entry file: MAGIC, SHA-256 of the rest, the length of the head (4
# bytes, big-endian), the head and the body, each zlib-compressed JSON.  The
# head (key, include closure, notices, statistics) is all a rerun with
# nothing changed needs; the body (the unit) is only decoded when the rules
# must run again.

_HEAD_LEN = 4


_DUMPS = dict(separators=(",", ":"), ensure_ascii=False, check_circular=False)


def _pack(head: Dict[str, Any], body: Any = None, body_text: Optional[str] = None) -> bytes:
    """An entry of ``head`` and ``body`` (a JSON value), or of ``head`` and
    ``body_text`` (the JSON text of the body)."""
    def z(text: str) -> bytes:
        return zlib.compress(text.encode("utf-8", "surrogatepass"), 1)
    h = z(json.dumps(head, **_DUMPS))
    b = z(json.dumps(body, **_DUMPS) if body_text is None else body_text)
    rest = len(h).to_bytes(_HEAD_LEN, "big") + h + b
    return _MAGIC + hashlib.sha256(rest).digest() + rest


def _split(blob: bytes) -> Tuple[bytes, bytes, bytes]:
    """(digest, head, body) of an intact entry; CacheMiss otherwise."""
    start = len(_MAGIC) + _DIGEST
    if len(blob) < start + _HEAD_LEN or not blob.startswith(_MAGIC):
        raise CacheMiss("not an entry")
    digest = blob[len(_MAGIC):start]
    rest = blob[start:]
    if hashlib.sha256(rest).digest() != digest:
        raise CacheMiss("checksum")
    n = int.from_bytes(rest[:_HEAD_LEN], "big")
    if n > len(rest) - _HEAD_LEN:
        raise CacheMiss("head length")
    return digest, rest[_HEAD_LEN:_HEAD_LEN + n], rest[_HEAD_LEN + n:]


def _unz(data: bytes) -> Any:
    return json.loads(zlib.decompress(data).decode("utf-8", "surrogatepass"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the
    new one, never a part: temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


_READ_ERRORS = (CacheMiss, OSError, ValueError, TypeError, KeyError, AttributeError, IndexError,
                zlib.error, UnicodeError, RecursionError, MemoryError, OverflowError)


@dataclasses.dataclass
class CachedFile:
    """A valid entry: what a run needs without the unit, and the unit on
    demand (``unit()``; None if its body turns out unreadable)."""

    file: str
    digest: str
    notices: List[model.Notice]
    stats: model.ParseStats
    body: bytes

    def unit(self) -> Optional[TranslationUnit]:
        try:
            unit = decode_unit(_unz(self.body))
        except _READ_ERRORS:
            return None
        return unit if unit.file == self.file else None


class UnitCache:
    """Entries of one tree: units under ``key`` (frontend, preprocessing,
    parser), runs under ``key`` and ``run_key`` (all code, rule data)."""

    def __init__(self, folder: Path, tree_root: Path, key: Dict[str, str],
                 run_key: Optional[Dict[str, str]] = None):
        self.tree_root = Path(tree_root)
        self.base = Path(folder)
        self.folder = Path(folder) / "units" / tree_namespace(self.tree_root)
        self.key = dict(key)
        self.run_key = dict(run_key or {})
        self.hasher = ContentHasher()
        self.hits = 0
        self.misses = 0
        self.write_errors = 0

    def _entry_path(self, rel: str) -> Path:
        name = hashlib.sha256(rel.encode("utf-8", "surrogateescape")).hexdigest()
        return self.folder / name[:2] / (name[2:] + ".lcu")

    def _abs(self, dep: str) -> str:
        return dep if os.path.isabs(dep) else os.path.join(str(self.tree_root), dep)

    def lookup(self, rel: str) -> Optional[CachedFile]:
        """The valid entry of ``rel`` (path relative to the tree root), or
        None when there is none, it is damaged or any input changed.
        Never raises."""
        try:
            found = self._lookup(rel)
        except _READ_ERRORS:
            found = None
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def load(self, rel: str) -> Optional[TranslationUnit]:
        """The cached unit of ``rel``, or None (see lookup)."""
        found = self.lookup(rel)
        unit = found.unit() if found is not None else None
        if found is not None and unit is None:
            self.hits -= 1
            self.misses += 1
        return unit

    def _lookup(self, rel: str) -> Optional[CachedFile]:
        path = self._entry_path(rel)
        try:
            with open(path, "rb") as fh:
                blob = fh.read()
        except FileNotFoundError:
            return None
        digest, head_z, body = _split(blob)
        head = _unz(head_z)
        if type(head) is not dict or head.get("format") != FORMAT or head.get("file") != rel \
                or head.get("key") != self.key:
            return None
        deps = head.get("deps")
        if type(deps) is not str or not deps:
            return None
        hasher, absolute = self.hasher, self._abs
        for line in deps.split("\n"):
            name, _, digest_hex = line.rpartition("\t")
            if not name or hasher(absolute(name)) != digest_hex:
                return None
        notices = decode(List[model.Notice], head.get("notices"))
        stats = decode(model.ParseStats, head.get("stats"))
        return CachedFile(rel, digest.hex(), notices, stats, body)

    def store(self, unit: TranslationUnit, deps: Dict[str, str]) -> Optional[str]:
        """Write the entry of ``unit``; ``deps`` maps every file the
        preprocessor read (absolute paths) to its SHA-256.  Returns the
        entry's digest, or None when it could not be written (that costs
        the next run time, never this run its result)."""
        root = str(self.tree_root) + os.sep
        lines = sorted(f"{p[len(root):] if p.startswith(root) else p}\t{h}" for p, h in deps.items())
        if not lines or any("\n" in line for line in lines):
            return None
        head = {"format": FORMAT, "file": unit.file, "key": self.key, "deps": "\n".join(lines),
                "notices": encode(List[model.Notice], unit.notices),
                "stats": encode(model.ParseStats, unit.stats)}
        try:
            blob = _pack(head, body_text=dumps_unit(unit))
            atomic_write_bytes(self._entry_path(unit.file), blob)
        except (OSError, ValueError, TypeError, RecursionError):
            self.write_errors += 1
            return None
        return blob[len(_MAGIC):len(_MAGIC) + _DIGEST].hex()

    def include_hashes(self, files: Iterable[str]) -> Optional[Dict[str, str]]:
        """SHA-256 of each file; None if one cannot be read."""
        out: Dict[str, str] = {}
        for f in files:
            digest = self.hasher(f)
            if digest is None:
                return None
            out[f] = digest
        return out

    # --- whole-run results ---------------------------------------------
    #
    # When every requested file is a cache hit, the findings depend only on
    # the entries (their digests), the rules and the question asked: they
    # are kept too, so a rerun with nothing changed skips decoding the units
    # and running the rules.

    def _run_path(self, question: str) -> Path:
        name = hashlib.sha256(question.encode("utf-8", "surrogateescape")).hexdigest()
        return self.folder / "runs" / (name + ".lcr")

    @staticmethod
    def _question(files: Sequence[str], extra: Sequence[str]) -> str:
        return "\0".join(list(extra) + ["--"] + list(files))

    def load_run(self, files: Sequence[str], digests: Sequence[str], extra: Sequence[str],
                 finding_type: Any) -> Optional[Tuple[list, List[str], List[model.Notice]]]:
        """(findings, slugs of the rules that ran, notices about the whole
        program) stored by ``store_run``
        for the same files, entry digests and ``extra`` (rule selection,
        tree version); None otherwise.  Never raises."""
        try:
            path = self._run_path(self._question(files, extra))
            try:
                with open(path, "rb") as fh:
                    blob = fh.read()
            except FileNotFoundError:
                return None
            _, head_z, body = _split(blob)
            head = _unz(head_z)
            if type(head) is not dict or head.get("format") != FORMAT or head.get("key") != self.key \
                    or head.get("run_key") != self.run_key or head.get("files") != list(files) or head.get("digests") != list(digests) \
                    or head.get("extra") != list(extra):
                return None
            value = _unz(body)
            if type(value) is not list or len(value) != 3:
                return None
            findings = decode(List[finding_type], value[0])
            slugs = decode(List[str], value[1])
            notices = decode(List[model.Notice], value[2])
            return findings, slugs, notices
        except _READ_ERRORS:
            return None

    def store_run(self, files: Sequence[str], digests: Sequence[str], extra: Sequence[str],
                  findings: list, slugs: List[str], notices: List[model.Notice], finding_type: Any) -> None:
        head = {"format": FORMAT, "key": self.key, "run_key": self.run_key, "files": list(files),
                "digests": list(digests),
                "extra": list(extra)}
        try:
            body = [encode(List[finding_type], findings), list(slugs), encode(List[model.Notice], notices)]
            atomic_write_bytes(self._run_path(self._question(files, extra)), _pack(head, body))
        except (OSError, ValueError, TypeError, RecursionError):
            self.write_errors += 1


def clear(folder: Path) -> int:
    """Remove every cache entry under ``folder``; returns how many."""
    removed = 0
    base = Path(folder) / "units"
    if not base.is_dir():
        return 0
    for dirpath, dirnames, filenames in os.walk(base, topdown=False):
        for name in filenames:
            if name.endswith((".lcu", ".lcr", ".part")):
                try:
                    os.unlink(os.path.join(dirpath, name))
                    removed += 1
                except OSError:
                    pass
        try:
            os.rmdir(dirpath)
        except OSError:
            pass
    return removed


def make_key(pp_command: Sequence[str]) -> Dict[str, str]:
    """The part of every unit entry's key that does not depend on the file.
    The prelude is named by its content (in ``frontend_hash``), not by
    where this copy of lifecheck lies: two checkouts of the same code
    share their cached units."""
    from .frontend.preprocess import PRELUDE
    command = ["<prelude.h>" if part == str(PRELUDE) else part for part in pp_command]
    return {"frontend": frontend_hash(),
            "preprocess": hashlib.sha256("\0".join(command).encode("utf-8", "surrogateescape")).hexdigest(),
            "parser": _parser_versions()}


def run_key(catalog: Any) -> Dict[str, str]:
    """What a run entry depends on beyond its units: all of lifecheck's code
    and the rule data (a canonical hash of the loaded catalog)."""
    return {"tool": tool_hash(), "rules": data_hash(catalog)}


def _parser_versions() -> str:
    # the AST (so the unit) depends on the Python and pycparser versions
    try:
        from importlib.metadata import version
        parts = [version("pycparser"), version("pycparserext")]
    except Exception:  # not installed as distributions: fall back to the modules
        import pycparser
        parts = [getattr(pycparser, "__version__", "?")]
    return "py%d.%d/" % sys.version_info[:2] + "/".join(parts)
