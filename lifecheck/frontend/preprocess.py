"""Run the C preprocessor on one QEMU file, with no build folder.

QEMU's sources need headers that only a build produces (config-host.h, the
QAPI and trace headers, CONFIG_DEVICES).  We preprocess with ``-nostdinc``,
force-include our prelude (libc and glib, see prelude.h), and answer every
header that the tree does not have with a stub written on demand into a
stub folder that sits *after* the tree's own include folders.

The preprocessor is run with an argument list we build ourselves: nothing
from the analysed tree ends up on the command line except include folders
and the file name.
"""
from __future__ import annotations

import hashlib
import os
import re
import shlex
import select
import signal
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, FrozenSet, Iterator, List, Optional, Tuple

from ..limits import megabytes, preprocessor_output_limit
from .tree import QemuTree

PRELUDE = Path(__file__).resolve().parent / "prelude.h"
_TRACE_INCLUDE_RE = re.compile(rb'#[ \t]*include[ \t]*"(trace/trace-[\w-]+\.h)"')
_MAX_SCANNED = 1 << 20  # bytes of each file read for its include names
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_INCLUDED_RE = re.compile(rb'#[ \t]*include[ \t]*["<]([^"<>\n]+)[">]')
_ANGLE_INCLUDE_RE = re.compile(rb'#[ \t]*include[ \t]*<([^<>\n]+)>')
# Marks a stub folder whose generated_headers() stubs were written.
_GENERATED_DONE = ".generated-stubs-written"
_MISSING_RE = re.compile(r"fatal error: ([^:\n]+): No such file or directory")
_QAPI_DECL_RE = re.compile(r"\{\s*'(struct|union|enum|alternate)'\s*:\s*'([A-Za-z_][A-Za-z0-9_]*)'")
_QAPI_BUILTIN_LISTS = (
    "str", "number", "int", "int8", "int16", "int32", "int64", "uint8", "uint16",
    "uint32", "uint64", "size", "bool", "any", "null",
)
MAX_STUB_ROUNDS = 64
# Bumped when what goes into the stub folder changes (2: never stub a
# target header such as cpu.h), so caches of older layouts are not reused.
_STUB_LAYOUT = 3  # 3: target headers stubbed per target (arch-<arch>/)
# Line markers name every file the preprocessor read: "# 12 "path" 1 3".
# Searched from the newline before them, with the name's loop unrolled:
# about 8 times faster than the same pattern anchored with ^ and re.M.
_LINE_MARKER_RE = re.compile(r'\n# \d+ "([^"\\]*(?:\\.[^"\\]*)*)"')
_FIRST_MARKER_RE = re.compile(_LINE_MARKER_RE.pattern[2:])


def marker_names(text: str) -> FrozenSet[str]:
    """The file names (as written, still escaped) of every line marker of
    preprocessed ``text``: each file the preprocessor read.  The last
    text's answer is kept: the checks and the include closure of one file
    both ask."""
    if _MARKER_MEMO and _MARKER_MEMO[0] is text:
        return _MARKER_MEMO[1]
    found = set(_LINE_MARKER_RE.findall(text))
    first = _FIRST_MARKER_RE.match(text)
    if first is not None:
        found.add(first.group(1))
    names = frozenset(found)
    _MARKER_MEMO[:] = [text, names]
    return names


_MARKER_MEMO: list = []
_DEPTH_RE = re.compile(r"^(.*?)error: #include nested depth \d+ exceeds maximum of (\d+)")
# gcc's pseudo-files in line markers
_PSEUDO_FILES = ("<built-in>", "<command-line>", "<stdin>")
# What a preprocessor error may quote of the input, at most.
_MAX_ERROR_TEXT = 64 * 1024
# A common build of a per-target file stops at an #error: cpu.h's "included
# from common code", or the file's own check of a TARGET_* macro.
_PER_TARGET_RE = re.compile(r"cpu\.h included from common code|#error")

# Per-target files (those that include cpu.h) are built once per target in
# QEMU; we preprocess them once, for one plausible target: the hw/ folder's
# own architecture, else one named in the file name, else x86.
_ARCH_DIRS = {
    "arm": "arm", "i386": "i386", "ppc": "ppc", "mips": "mips", "riscv": "riscv",
    "s390x": "s390x", "sparc": "sparc", "sparc64": "sparc", "m68k": "m68k",
    "alpha": "alpha", "hppa": "hppa", "loongarch": "loongarch", "microblaze": "microblaze",
    "openrisc": "openrisc", "sh4": "sh4", "tricore": "tricore", "xtensa": "xtensa",
    "avr": "avr", "rx": "rx", "hexagon": "hexagon",
}
_ARCH_WORDS = (
    ("arm", ("arm", "aspeed", "allwinner", "imx", "stm32", "bcm2", "npcm", "xlnx", "zynq",
             "omap", "exynos", "nrf51", "mps2", "armv7m", "gic", "pl0", "msf2", "sbsa", "tz-",
             "iotkit", "a9", "a15", "digic", "strongarm", "pxa", "highbank", "integrator",
             "versatile", "vexpress", "raspi", "musca", "mps3", "fsl", "max78000", "smmu")),
    ("mips", ("mips", "loongson", "boston", "malta", "jazz", "gt64")),
    ("ppc", ("ppc", "spapr", "pnv", "xive", "openpic", "e500", "mpc", "pegasos", "prep", "mac", "heathrow")),
    ("riscv", ("riscv", "sifive", "opentitan", "aclint", "aplic", "imsic", "ibex", "plic")),
    ("s390x", ("s390", "css", "ccw", "zpci")),
    ("loongarch", ("loongarch", "ls7a")),
    ("sparc", ("sparc", "sun4", "slavio", "eccmemctl", "grlib", "leon")),
    ("hppa", ("hppa", "lasi", "dino", "astro")),
    ("m68k", ("m68k", "mcf", "q800", "next", "virt-ctrl")),
    ("xtensa", ("xtensa", "xtfpga")),
)
_TARGET_64 = {"arm": "AARCH64", "i386": "X86_64", "ppc": "PPC64", "mips": "MIPS64",
              "riscv": "RISCV64", "loongarch": "LOONGARCH64", "sparc": "SPARC64"}


def guess_arch(rel_path: str) -> str:
    parts = rel_path.split("/")
    if len(parts) > 2 and parts[0] == "hw" and parts[1] in _ARCH_DIRS:
        return _ARCH_DIRS[parts[1]]
    name = parts[-1].lower()
    for arch, words in _ARCH_WORDS:
        if any(w in name for w in words):
            return arch
    return "i386"


# What top_level_includes() ignores: comments (one space, as the
# preprocessor sees them) and literals (kept, so "/*" in a string is text).
_COMMENT_OR_LITERAL_RE = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
_DIRECTIVE_RE = re.compile(r"^[ \t]*#[ \t]*(\w+)(.*)$", re.M)
_INCLUDED_NAME_RE = re.compile(r'[ \t]*(?:"([^"\n]+)"|<([^>\n]+)>)')


def top_level_includes(text: str) -> Iterator[Tuple[str, bool]]:
    """(name, quoted) of each ``#include`` of a source that no ``#if``
    encloses, in order: lines every preprocessor run of the file reaches,
    unless an earlier one stops it.  Stops at an ``#endif`` without its
    ``#if`` and at an include of a macro."""
    text = _COMMENT_OR_LITERAL_RE.sub(lambda m: " " if m.group(0)[0] == "/" else m.group(0),
                                      text.replace("\\\n", ""))
    depth = 0
    for m in _DIRECTIVE_RE.finditer(text):
        word = m.group(1)
        if word in ("if", "ifdef", "ifndef"):
            depth += 1
        elif word == "endif":
            depth -= 1
            if depth < 0:
                return
        elif word == "include" and depth == 0:
            name = _INCLUDED_NAME_RE.match(m.group(2))
            if name is None:
                return
            yield (name.group(1), True) if name.group(1) is not None else (name.group(2), False)


def _target_mak(root: Path, arch: str) -> Optional[Dict[str, str]]:
    """The settings of the tree's softmmu target for ``arch``, from
    configs/targets/*-softmmu.mak (7.2 and later) or
    default-configs/targets/*-softmmu.mak (5.2): the 64-bit variant when
    there is one, else the one named like the folder, else the first."""
    candidates = []
    for folder in (root / "configs" / "targets", root / "default-configs" / "targets"):
        for path in sorted(folder.glob("*-softmmu.mak")) if folder.is_dir() else ():
            values: Dict[str, str] = {}
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            for line in text.splitlines():
                m = re.match(r"\s*([A-Z][A-Z0-9_]*)\s*=\s*(.*?)\s*$", line)
                if m:
                    values[m.group(1)] = m.group(2)
            name = values.get("TARGET_ARCH", "")
            if values.get("TARGET_BASE_ARCH", name) == arch or name == arch:
                candidates.append(values)
        if candidates:
            break
    if not candidates:
        return None
    wide = _TARGET_64.get(arch, "").lower()

    def rank(values: Dict[str, str]) -> Tuple[int, str]:
        name = values.get("TARGET_ARCH", "")
        return (0 if wide and name == wide else 1 if name == arch else 2, name)
    return sorted(candidates, key=rank)[0]


def config_target(arch: str, root: Optional[Path] = None) -> str:
    """What a build's <target>-config-target.h says, rebuilt from the
    tree's target .mak file the way meson.build does (TARGET_<ARCH>,
    TARGET_<BASE_ARCH>, y -> 1, n -> 0, TARGET_NAME quoted), or a plausible
    default when the tree has none."""
    mak = _target_mak(root, arch) if root is not None else None
    if mak is not None:
        name = mak.get("TARGET_ARCH", arch)
        base = mak.get("TARGET_BASE_ARCH", name)
        lines = ["/* lifecheck stub: per-target configuration from the tree's target .mak */",
                 f"#define TARGET_{name.upper()} 1", f"#define TARGET_{base.upper()} 1",
                 f'#define TARGET_NAME "{name}"', f"#define QEMU_ARCH QEMU_ARCH_{base.upper()}",
                 "#define CONFIG_SOFTMMU 1"]
        if "TARGET_BIG_ENDIAN" not in mak:
            lines.append("#define TARGET_BIG_ENDIAN 0")
        for key, value in sorted(mak.items()):
            if key in ("TARGET_ARCH", "TARGET_BASE_ARCH", "TARGET_NAME") or not value or " " in value:
                continue
            if not (key.startswith("TARGET_") or key.startswith("CONFIG_")):
                continue
            if value in ("y", "n"):
                lines.append(f"#define {key} {1 if value == 'y' else 0}")
            elif re.fullmatch(r"[A-Za-z0-9_]+", value):
                lines.append(f"#define {key} {value}")
        return "\n".join(lines) + "\n"
    lines = ["/* lifecheck stub: per-target configuration */",
             f"#define TARGET_{arch.upper()} 1",
             f'#define TARGET_NAME "{arch}"']
    if arch in _TARGET_64:
        lines.append(f"#define TARGET_{_TARGET_64[arch]} 1")
        lines.append("#define TARGET_LONG_BITS 64")
    else:
        lines.append("#define TARGET_LONG_BITS 32")
    if arch == "loongarch":
        lines.append("#define TARGET_LOONGARCH 1")
    return "\n".join(lines) + "\n"


class PreprocessError(Exception):
    """The file could not be preprocessed; the message says why."""


class _NeedsTarget(PreprocessError):
    """A common build of the file asked for a header only a target folder
    has (``cpu.h``, ``kvm_arm.h``, ...): it is a per-target file."""

    def __init__(self, header: str):
        super().__init__(f"per-target header {header} not found")
        self.header = header


@dataclass
class Preprocessed:
    text: str
    stubbed: List[str]  # headers answered by an empty stub
    target: Optional[str] = None  # the target architecture, for per-target files


_STAND_IN = "lifecheck-stand-in-source.c"


def _cc1_command(driver: List[str]) -> Optional[Tuple[List[str], int]]:
    """What ``driver + [source]`` runs, from ``gcc -###``: (cc1's argv with
    a stand-in source, the stand-in's index), or None when the answer is not
    exactly one cc1 -E command naming the stand-in once."""
    try:
        proc = subprocess.run(driver[:1] + ["-###"] + driver[1:] + [_STAND_IN], shell=False,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    commands = []
    for line in proc.stderr.decode("utf-8", errors="replace").splitlines():
        if not line.startswith(" "):
            continue  # "Target:", "COLLECT_GCC_OPTIONS=...", ...
        try:
            commands.append(shlex.split(line))
        except ValueError:
            return None
    if len(commands) != 1:
        return None
    argv = commands[0]
    if not argv or os.path.basename(argv[0]) != "cc1" or "-E" not in argv or not os.path.isabs(argv[0]):
        return None
    # -dumpbase names the source for files cc1 does not write with -E
    out: List[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("-dumpbase", "-dumpbase-ext", "-dumpdir"):
            skip = True
            continue
        out.append(arg)
    if out.count(_STAND_IN) != 1 or any(_STAND_IN in a for a in out if a != _STAND_IN):
        return None
    return out, out.index(_STAND_IN)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def qapi_typedefs(root: Path) -> str:
    """Typedefs for every QAPI type named in the tree's qapi/*.json schemas.

    Generated QAPI headers declare ``typedef struct Foo Foo`` and
    ``FooList``; without those names pycparser cannot parse the code that
    uses them, so empty stubs are not enough."""
    lines = ["/* QAPI type names, from qapi/*.json (lifecheck stub) */",
             "#ifndef LIFECHECK_QAPI_H", "#define LIFECHECK_QAPI_H"]
    seen = set()
    for name in _QAPI_BUILTIN_LISTS:
        lines.append(f"typedef struct {name}List {name}List;")
    lines.append("typedef int QType;")
    for path in sorted((root / "qapi").glob("*.json")):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for kind, name in _QAPI_DECL_RE.findall(text):
            if name in seen:
                continue
            seen.add(name)
            if kind == "enum":
                lines.append(f"typedef int {name};")
            else:
                lines.append(f"typedef struct {name} {name};")
            lines.append(f"typedef struct {name}List {name}List;")
    lines.append("#endif")
    return "\n".join(lines) + "\n"


def _wait(proc: subprocess.Popen, timeout: Optional[float]) -> int:
    """``proc.wait(timeout)``, but woken the moment the process ends:
    ``Popen.wait`` with a timeout polls, sleeping up to 50 ms past the end
    (about 20 ms per file on average, a tenth of a worker's time).  Uses a
    pidfd where the system has them (Linux 5.3+), else ``Popen.wait``."""
    try:
        fd = os.pidfd_open(proc.pid)  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return proc.wait(timeout=timeout)
    try:
        waiter = select.poll()
        waiter.register(fd, select.POLLIN)
        if not waiter.poll(None if timeout is None else max(0, int(timeout * 1000))):
            raise subprocess.TimeoutExpired(proc.args, timeout)
    finally:
        os.close(fd)
    return proc.wait()


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.wait()


def _tree_sources(folder: Path, suffixes: Tuple[str, ...]) -> Iterator[Tuple[str, bytes]]:
    """(name, first MiB) of the regular files under ``folder`` whose names
    end with one of ``suffixes``; links (which may lead out of the tree),
    FIFOs, devices and unreadable files are left out, and nothing blocks."""
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith(suffixes):
                continue
            data = _read_regular(os.path.join(dirpath, name), _NOFOLLOW)
            if data is not None:
                yield name, data


def _read_regular(path: str, flags: int) -> Optional[bytes]:
    """The first MiB of ``path`` if it is a readable regular file, else
    None; never blocks (a FIFO)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(_MAX_SCANNED)
    except OSError:
        return None
    finally:
        os.close(fd)


def _is_stub_name(name: str) -> bool:
    """A header name a stub may be written for: relative, inside the stub
    folder, a plain file name in each part."""
    rel = Path(name)
    return bool(name) and not rel.is_absolute() and ".." not in rel.parts and \
        all(part and part != "." for part in name.split("/")) and "\\" not in name


def _stub_text(rel: Path) -> str:
    """What the stub of a missing header holds (depends only on its name)."""
    text = "/* lifecheck stub for a generated or system header */\n"
    if rel.parts[0] == "qapi" or rel.name.startswith("qapi-"):
        text += '#include "lifecheck-qapi.h"\n'
    return text


class Preprocessor:
    """Preprocesses files of one tree; stubs are shared by all its runs."""

    def __init__(self, tree: QemuTree, stub_dir: Path, timeout: float = 60.0, cc: str = "gcc",
                 max_output: int = 0):
        self.tree = tree
        self.stub_dir = Path(stub_dir)
        self.timeout = timeout
        self.cc = cc
        self._target_headers: Optional[Dict[str, List[str]]] = None
        self.max_output = max_output  # bytes of preprocessed text; 0: no limit
        self._prepare_stubs()
        # what the preprocessor may read: the tree, our stubs, our prelude
        self._allowed = (os.path.realpath(self.tree.root), os.path.realpath(self.stub_dir))
        self._inside: dict = {}
        self._real: Dict[str, str] = {}
        # gcc's arguments (less the source) -> the cc1 command it runs, with
        # the source's place in it, or None: run gcc (see _direct)
        self._cc1: Dict[Tuple[str, ...], Optional[Tuple[List[str], int]]] = {}

    def _config_host(self) -> str:
        """The build's config-host.h: POSIX on Linux, and the version macros
        it (or qemu-version.h) defines."""
        v = self.tree.version or (0, 0, 0)
        v = tuple(v) + (0,) * (3 - len(v))
        return ("/* lifecheck stub */\n#define CONFIG_POSIX 1\n#define CONFIG_LINUX 1\n"
                f'#define QEMU_VERSION "{self.tree.version_text}"\n'
                f"#define QEMU_VERSION_MAJOR {v[0]}\n#define QEMU_VERSION_MINOR {v[1]}\n"
                f"#define QEMU_VERSION_MICRO {v[2]}\n")

    def target_headers(self) -> Dict[str, List[str]]:
        """Header paths (relative to target/<arch>/) -> the archs having them.
        A common build must never answer these with an empty stub."""
        if self._target_headers is None:
            found: Dict[str, List[str]] = {}
            target = self.tree.root / "target"
            for arch_dir in sorted(target.iterdir()) if target.is_dir() else ():
                if not arch_dir.is_dir():
                    continue
                for dirpath, dirnames, filenames in os.walk(arch_dir):
                    dirnames.sort()
                    for name in sorted(filenames):
                        # trace.h is every folder's own generated header
                        if name.endswith(".h") and not name.startswith("trace"):
                            rel = (Path(dirpath) / name).relative_to(arch_dir).as_posix()
                            found.setdefault(rel, []).append(arch_dir.name)
            self._target_headers = found
        return self._target_headers

    def generated_headers(self) -> List[str]:
        """Headers the tree's files ask for that a build or the system would
        provide: each folder's trace.h includes ``trace/trace-<folder>.h``;
        every QAPI schema qapi/<m>.json becomes qapi/qapi-{types,visit,
        commands,events}-<m>.h; and ``#include <...>`` names (libc, glib,
        libraries) are never found with -nostdinc.  Their stubs are written
        once, before the first run, instead of on demand: a stub's text
        depends only on its name, and each one found missing cost the file
        that found it a preprocessor run that stopped there (~260 of 1,970
        runs over hw/ from an empty stub folder).  Names the tree has, or a
        target folder has, are left out."""
        root = self.tree.root
        names = {f"qapi/qapi-builtin-{kind}.h" for kind in ("types", "visit")}
        for schema in (root / "qapi").glob("*.json"):
            names.update(f"qapi/qapi-{kind}-{schema.stem}.h"
                         for kind in ("types", "visit", "commands", "events"))
        # (a name matched in a comment only adds a stub no file reads)
        for folder, suffixes in (("include", (".h",)), ("hw", (".c", ".h")), ("target", ("trace.h",))):
            for name, data in _tree_sources(root / folder, suffixes):
                found = _TRACE_INCLUDE_RE.findall(data) if name == "trace.h" else []
                found += _ANGLE_INCLUDE_RE.findall(data)
                names.update(n.decode("utf-8", "replace") for n in found)
        dirs = [Path(d) for d in self.include_dirs(root / "hw" / "x.c")]
        return sorted(n for n in names if n not in self.target_headers() and _is_stub_name(n)
                      and not any((d / n).exists() for d in dirs))

    def _prepare_stubs(self) -> None:
        stubs = {
            "config-host.h": self._config_host(),
            "lifecheck-config-devices.h": "/* lifecheck stub */\n",
            "lifecheck-config-target.h": "/* lifecheck stub */\n",
            "lifecheck-qapi.h": qapi_typedefs(self.tree.root),
        }
        for name, text in stubs.items():
            path = self.stub_dir / name
            if not path.exists() or path.read_text(encoding="utf-8", errors="replace") != text:
                _atomic_write(path, text)
        done = self.stub_dir / _GENERATED_DONE
        if not done.exists():  # once per stub folder (it is per tree and tool version)
            for name in self.generated_headers():
                path = self.stub_dir / name
                if not path.exists():  # (its text is checked below)
                    _atomic_write(path, _stub_text(Path(name)))
            _atomic_write(done, "")
        # The stub folder is a cache: whatever is in it (written by a run
        # that was killed, by another version, or damaged) is checked
        # against what it must hold before the preprocessor may read it.
        for dirpath, _, filenames in os.walk(self.stub_dir):
            for name in filenames:
                path = Path(dirpath) / name
                rel = path.relative_to(self.stub_dir)
                if name.startswith("."):
                    continue  # another process's write in progress, or _GENERATED_DONE
                if str(rel) in stubs:
                    continue
                m = re.fullmatch(r"lifecheck-config-target-(\w+)\.h", str(rel))
                per_target = len(rel.parts) > 1 and rel.parts[0].startswith("arch-")
                if not per_target and rel.as_posix() in self.target_headers():
                    try:  # only a target's own runs may find a stub of its headers
                        path.unlink()
                    except OSError:
                        pass
                    continue
                want = config_target(m.group(1), self.tree.root) if m else \
                    _stub_text(Path(*rel.parts[1:]) if per_target else rel)
                try:
                    ok = path.read_text(encoding="utf-8", errors="replace") == want
                except OSError:
                    ok = False
                if not ok:
                    _atomic_write(path, want)

    def include_dirs(self, source: Path) -> List[str]:
        root = self.tree.root
        dirs = [root / "include", root, root / "host" / "include" / "x86_64",
                root / "host" / "include" / "generic", root / "linux-headers",
                root / "linux-headers" / "asm-x86", root / "tcg" / "i386"]
        return [str(d) for d in dirs if d.is_dir()]

    def command(self, source: Path, arch: Optional[str] = None) -> List[str]:
        cmd = [self.cc, "-E", "-nostdinc", "-std=gnu11", "-w",
               "-include", str(PRELUDE),
               '-DCONFIG_DEVICES="lifecheck-config-devices.h"',
               "-DHW_POISON_H", "-DQEMU_POISON_H"]
        if "gcc" in os.path.basename(self.cc):
            # the same output; gcc stops recording where each macro expansion
            # came from (for diagnostics we do not ask for): ~10% of its time
            cmd.append("-ftrack-macro-expansion=0")
            # and does not resolve the path of each system header (our stub
            # folder, already absolute) through readlink() per component:
            # ~350 failed readlink() calls and ~5% of its time per file
            cmd.append("-fno-canonical-system-headers")
        if arch is None:
            cmd.append('-DCONFIG_TARGET="lifecheck-config-target.h"')
        else:
            # 10.x says COMPILING_PER_TARGET, 7.2 says NEED_CPU_H
            cmd += ["-DCOMPILING_PER_TARGET", "-DNEED_CPU_H",
                    f'-DCONFIG_TARGET="lifecheck-config-target-{arch}.h"']
            target = self.tree.root / "target" / arch
            if target.is_dir():
                cmd += ["-I", str(target)]
        for d in self.include_dirs(source):
            cmd += ["-I", d]
        # a file called "-fplugin=..." must never be read as an option
        name = str(source)
        if name.startswith("-"):
            name = os.path.join(".", name)
        if arch is not None:
            cmd += ["-idirafter", str(self._arch_stub_dir(arch))]
        cmd += ["-idirafter", str(self.stub_dir), name]
        return cmd

    def _arch_stub_dir(self, arch: str) -> Path:
        return self.stub_dir / f"arch-{arch}"

    def _stub_for(self, header: str, arch: Optional[str] = None) -> bool:
        """Make sure a stub for a missing header exists; False if it cannot
        be stubbed.  Another worker may have written it meanwhile.  A
        target's header missing from the target a file is preprocessed for
        (``kvm_ppc.h`` in an i386 run) is stubbed for that target only
        (``arch-<arch>/``, on its runs' path): in the common folder it would
        answer the first, target-less run of every later file that asks
        for it, which must fail for the file to get its target, and what a
        file became would depend on the files analysed before it."""
        rel = Path(header)
        if rel.is_absolute() or ".." in rel.parts:
            return False
        if arch is not None and header in self.target_headers():
            path = self._arch_stub_dir(arch) / rel
        else:
            path = self.stub_dir / rel
        text = _stub_text(rel)
        try:  # another worker may have written it; a damaged cache is rewritten
            if path.read_text(encoding="utf-8", errors="replace") == text:
                return True
        except OSError:
            pass
        _atomic_write(path, text)
        return True

    def predicted_target(self, source: Path) -> Optional[str]:
        """The target a file will be preprocessed for when that is certain
        before any run, else None.  A file that includes, outside any
        ``#if``, a header only target folders have (``cpu.h``, ``kvm_arm.h``)
        and that no folder of a common build answers makes its common run
        stop at that line at the latest: by a missing target header there
        or earlier, or by an ``#error`` ("cpu.h included from common code").
        When the folder's or name's architecture has that header, it is the
        target ``run`` picks for the first of these, unless an earlier one
        is a target header that architecture lacks: ``run`` checks for that
        after the target run (a stub of that target's in the output), so
        the common run that fails is skipped for a fifth of hw/ only where
        it would not have changed the result."""
        data = _read_regular(str(source), 0)
        if data is None:
            return None
        headers = self.target_headers()
        if not any(name.decode("utf-8", "replace") in headers for name in _INCLUDED_RE.findall(data)):
            return None  # (most files: no need to look closer)
        dirs = None
        for name, quoted in top_level_includes(data.decode("utf-8", "replace")):
            having = headers.get(name)
            if not having:
                continue  # found, or a missing header of another kind: stubbed, the run goes on
            if dirs is None:
                dirs = self.include_dirs(source) + [str(self.stub_dir)]
            where = ([str(source.parent)] if quoted else []) + dirs
            if any(os.path.exists(os.path.join(d, name)) for d in where):
                continue  # (a target header's name: a plain relative path)
            arch = guess_arch(self.tree.relative(source))
            return arch if arch in having else None
        return None

    def _used_target_stub(self, result: Preprocessed, arch: str) -> bool:
        """The output read a stub of a target header ``arch`` lacks."""
        folder = os.path.realpath(self._arch_stub_dir(arch)) + os.sep
        return any(self.realpath(name).startswith(folder) for name in marker_names(result.text)
                   if name not in _PSEUDO_FILES)

    def run(self, source: Path) -> Preprocessed:
        header = None
        predicted = self.predicted_target(source)
        if predicted is not None:
            try:
                result = self._run_target(source, predicted)
            except PreprocessError:
                pass  # as if not predicted: the common run says what to report
            else:
                if not self._used_target_stub(result, predicted):
                    return result
        try:
            return self._run(source, None)
        except _NeedsTarget as exc:
            header = exc.header
        except PreprocessError as exc:
            if not _PER_TARGET_RE.search(str(exc)):
                raise
        return self._run_target(source, self.choose_arch(self.tree.relative(source), header))

    def _run_target(self, source: Path, arch: str) -> Preprocessed:
        path = self.stub_dir / f"lifecheck-config-target-{arch}.h"
        want = config_target(arch, self.tree.root)
        if not path.exists() or path.read_text(encoding="utf-8", errors="replace") != want:
            _atomic_write(path, want)
        result = self._run(source, arch)
        result.target = arch
        return result

    def choose_arch(self, rel: str, header: Optional[str] = None) -> str:
        """The target a per-target file is preprocessed for: its folder's or
        name's architecture, unless only other targets have the header it
        asked for (``kvm_arm.h`` from hw/intc: arm)."""
        arch = guess_arch(rel)
        having = self.target_headers().get(header or "", [])
        if having and arch not in having:
            arch = "i386" if "i386" in having else having[0]
        return arch

    def realpath(self, name: str) -> str:
        """``os.path.realpath(name)``, remembered for the life of this
        preprocessor (one run): every file names the same headers."""
        real = self._real.get(name)
        if real is None:
            real = self._real[name] = os.path.realpath(name)
        return real

    def _is_inside(self, name: str) -> bool:
        hit = self._inside.get(name)
        if hit is None:
            real = self.realpath(name)
            hit = real == str(PRELUDE) or any(
                real == top or real.startswith(top + os.sep) for top in self._allowed)
            self._inside[name] = hit
        return hit

    def check_inputs(self, text: str) -> None:
        """Refuse output that read a file outside the tree, the stubs and the
        prelude (``#include "/etc/passwd"``, ``"../../../x"``, a link to
        outside): its text must not reach findings or notices."""
        for name in marker_names(text):
            if name in _PSEUDO_FILES:
                continue
            name = name.replace('\\"', '"').replace("\\\\", "\\")
            if not self._is_inside(name):
                shown = os.path.normpath(name)
                inside = shown.startswith(str(self.tree.root) + os.sep)
                if inside:
                    shown = shown[len(str(self.tree.root)) + 1:]
                why = "a link to a file outside the tree" if inside else "outside the tree root"
                raise PreprocessError(f"reads {shown} ({why}); not analysed")

    def _spawn(self, cmd: List[str]) -> Tuple[int, str, str]:
        """Run the preprocessor once: (exit status, output, errors).  No
        shell; output goes to a temporary file whose size is capped, so a
        macro bomb cannot fill this process's memory."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            try:
                # a session of its own, so that gcc's cc1 goes when gcc goes
                with preprocessor_output_limit(self.max_output):
                    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                            shell=False, start_new_session=True)
            except OSError as exc:
                raise PreprocessError(f"cannot run the preprocessor '{self.cc}': {exc.strerror}") from None
            try:
                _wait(proc, self.timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                raise PreprocessError(f"preprocessor did not finish within {self.timeout:g} s") from None
            except BaseException:  # the file's time limit, an interrupt
                _kill_group(proc)
                raise
            if self.max_output and os.fstat(out.fileno()).st_size >= self.max_output:
                # the preprocessor (or its cc1) was stopped by RLIMIT_FSIZE
                raise PreprocessError("preprocessed output exceeds the limit of "
                                      f"{megabytes(self.max_output)}; not analysed")
            err.seek(0)
            errors = err.read(_MAX_ERROR_TEXT).decode("utf-8", errors="replace")
            if proc.returncode != 0:
                return proc.returncode, "", errors
            out.seek(0)
            # gcc passes bytes through; not UTF-8 becomes U+FFFD everywhere
            return 0, out.read().decode("utf-8", errors="replace"), errors

    def _direct(self, cmd: List[str]) -> List[str]:
        """The command gcc runs for ``cmd`` (its preprocessor, cc1), to be
        run without gcc: gcc only works out cc1's arguments and waits for
        it, which costs a process and 5-10% of the time per file.  What gcc
        would run is asked once per set of arguments (``gcc -###``, which
        prints cc1's command line and runs nothing), with a stand-in for the
        source; the source then takes the stand-in's place.  Anything
        unexpected in that answer, or a compiler that is not gcc: ``cmd``
        as it is."""
        if "gcc" not in os.path.basename(self.cc) or len(cmd) < 2:
            return cmd
        key = tuple(cmd[1:-1])
        if key not in self._cc1:
            self._cc1[key] = _cc1_command(list(cmd[:-1]))
        found = self._cc1[key]
        if found is None:
            return cmd
        argv, at = found
        argv = list(argv)
        argv[at] = cmd[-1]
        return argv

    def _run(self, source: Path, arch: Optional[str]) -> Preprocessed:
        stubbed: List[str] = []
        tried = set()
        cmd = self._direct(self.command(source, arch))
        for _ in range(MAX_STUB_ROUNDS):
            returncode, out, err = self._spawn(cmd)
            if returncode == 0:
                self.check_inputs(out)
                return Preprocessed(out, stubbed)
            missing = _MISSING_RE.findall(err)
            progress = False
            for header in missing:
                header = header.strip()
                if arch is None and header in self.target_headers():
                    raise _NeedsTarget(header)
                if header not in tried and self._stub_for(header, arch):
                    tried.add(header)
                    stubbed.append(header)
                    progress = True
            if not progress:
                first = next((line for line in err.splitlines() if "error" in line), err.strip()[:200])
                m = _DEPTH_RE.search(first)
                if m:  # gcc's own advice (-fmax-include-depth) is not for our users
                    first = f"{m.group(1)}#include nested more than {m.group(2)} deep (an include cycle?)"
                raise PreprocessError(f"preprocessor failed: {first}")
        raise PreprocessError("too many missing headers")


def stub_dir_for(tree: QemuTree, cache_root: Path, tool_version: str) -> Path:
    key = hashlib.sha256(f"{tree.root}\0{tree.version_text}\0{tool_version}\0{_STUB_LAYOUT}"
                         .encode()).hexdigest()[:16]
    return cache_root / "stubs" / key
