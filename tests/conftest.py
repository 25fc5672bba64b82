"""Shared fixtures: the bundled examples tree, snippet checking, and a real
QEMU tree fetched on demand for the tests marked ``realtree``."""
from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

from lifecheck.analysis import run
from lifecheck.frontend.tree import QemuTree
from lifecheck.rules.catalog import load_catalog

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"

QEMU_RELEASES = {
    # Debian source package versions (DESIGN.md section 5)
    "10.2.2": "1:10.2.2+ds-1",
    "10.0.13": "1:10.0.13+ds-0+deb13u1",
    "7.2": "1:7.2+dfsg-7+deb12u18",
    "5.2": "1:5.2+dfsg-11+deb11u5",
}
# The Debian suites that carry each release's source package.
_SUITES = {
    "10.2.2": "bookworm trixie sid",
    "10.0.13": "bookworm trixie sid",
    "7.2": "bookworm trixie sid",
    "5.2": "bullseye",  # and bullseye-security, which has the deb11u* updates
}


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


def check_tree(root: Path, paths, catalog, version=None):
    tree = QemuTree.open(root)
    report, internal = run(tree, [Path(p) for p in paths], catalog, jobs=1)
    assert not internal, [n for n in report.notices if n.kind == "internal"]
    return report


@pytest.fixture
def check_snippet(tmp_path, catalog):
    """check_snippet(code, version="10.2.2") -> {(slug, line)} for a device
    file written into a throw-away tree that has the examples' headers."""
    def _check(code: str, version: str = "10.2.2", name: str = "hw/misc/snippet.c",
               severity: bool = False):
        root = tmp_path / "tree"
        if not root.exists():
            shutil.copytree(EXAMPLES / "include", root / "include")
        (root / "VERSION").write_text(version + "\n")
        src = root / name
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_text(code)
        report = check_tree(root, [src], catalog)
        if severity:
            return {(f.rule, f.loc.line, f.severity) for f in report.findings}
        return {(f.rule, f.loc.line) for f in report.findings}
    return _check


# -- real QEMU trees -----------------------------------------------------------

def _cache_dir() -> Path:
    env = os.environ.get("LIFECHECK_TEST_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lifecheck-tests"


def _debian_sources(suites: str = "bookworm trixie sid") -> str:
    """A deb-src entry for ``suites`` with the URIs and key of the
    machine's debian.sources; for a suite with security updates
    (bullseye) also one for <suite>-security."""
    src = Path("/etc/apt/sources.list.d/debian.sources")
    if not src.is_file():
        raise RuntimeError("no /etc/apt/sources.list.d/debian.sources to derive a deb-src entry from")
    text = src.read_text()
    uris = keys = security = None
    for block in text.split("\n\n"):
        fields = dict(line.split(":", 1) for line in block.splitlines()
                      if ":" in line and not line.startswith("#"))
        if not fields.get("Suites", "").split()[:1]:
            continue
        if "security" in fields.get("Suites", ""):
            security = security or fields.get("URIs", "").strip()
        elif uris is None:
            uris, keys = fields.get("URIs", "").strip(), fields.get("Signed-By", "").strip()
    if not uris:
        raise RuntimeError("cannot find the Debian archive URI in debian.sources")
    out = f"Types: deb-src\nURIs: {uris}\nSuites: {suites}\nComponents: main\nSigned-By: {keys}\n"
    if suites == "bullseye" and security:
        out += (f"\nTypes: deb-src\nURIs: {security}\nSuites: bullseye-security\n"
                f"Components: main\nSigned-By: {keys}\n")
    return out


def _local_tree(version: str):
    """A tree the user already has: LIFECHECK_QEMU_<version> (dots as
    underscores), or qemu-<version>[.0] under LIFECHECK_QEMU_TREES."""
    env_tree = os.environ.get("LIFECHECK_QEMU_" + version.replace(".", "_"))
    if env_tree and (Path(env_tree) / "VERSION").is_file():
        return Path(env_tree)
    trees = os.environ.get("LIFECHECK_QEMU_TREES")
    for name in (f"qemu-{version}", f"qemu-{version}.0"):
        if trees and (Path(trees) / name / "VERSION").is_file():
            return Path(trees) / name
    return None


def fetch_qemu(version: str) -> Path:
    """The unpacked QEMU ``version`` source tree, downloaded once with
    ``apt-get source`` (DESIGN.md section 5) and cached outside the repo.
    Raises RuntimeError with the reason when that is impossible."""
    cache = _cache_dir()
    dest = cache / f"qemu-{version}"
    if (dest / "VERSION").is_file():
        return dest
    local = _local_tree(version)
    if local is not None:
        return local
    if version not in QEMU_RELEASES:
        raise RuntimeError(f"no Debian source package known for QEMU {version}")
    if shutil.which("apt-get") is None:
        raise RuntimeError("apt-get is not available to fetch the Debian source package")
    if os.geteuid() != 0:
        raise RuntimeError("fetching the QEMU source package needs root (apt-get update)")
    suites = _SUITES[version]
    name = "lifecheck-deb-src.sources" if suites.startswith("bookworm") else f"lifecheck-deb-src-{suites}.sources"
    src_list = Path("/etc/apt/sources.list.d") / name
    if not src_list.exists():
        src_list.write_text(_debian_sources(suites))
        subprocess.run(["apt-get", "update", "-q"], check=False, capture_output=True, timeout=600)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        proc = subprocess.run(["apt-get", "source", "--download-only", f"qemu={QEMU_RELEASES[version]}"],
                              cwd=tmp, capture_output=True, text=True, timeout=1800)
        origs = list(Path(tmp).glob("*.orig.tar.*"))
        if proc.returncode != 0 or not origs:
            raise RuntimeError(f"apt-get source qemu={QEMU_RELEASES[version]} failed: "
                               f"{(proc.stderr or proc.stdout).strip()[-300:]}")
        with tarfile.open(origs[0]) as tar:
            top = tar.getmembers()[0].name.split("/")[0]
            tar.extractall(tmp, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(tmp)
        unpacked = Path(tmp) / top
        if not (unpacked / "VERSION").is_file():
            raise RuntimeError(f"{origs[0].name} did not unpack to a QEMU tree")
        unpacked.rename(dest)
    return dest


@pytest.fixture(scope="session")
def qemu_tree():
    """qemu_tree(version) -> the tree's root, or skip saying why not."""
    cache = {}

    def _tree(version: str) -> Path:
        if version not in cache:
            try:
                cache[version] = fetch_qemu(version)
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                cache[version] = exc
        got = cache[version]
        if isinstance(got, Exception):
            pytest.skip(f"QEMU {version} source tree not available: {got}")
        return got
    return _tree


@pytest.fixture(scope="session")
def qemu_10_2():
    try:
        return fetch_qemu("10.2.2")
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"QEMU 10.2.2 source tree not available: {exc}")


@pytest.fixture(scope="session")
def qemu_7_2():
    try:
        return fetch_qemu("7.2")
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"QEMU 7.2 source tree not available: {exc}")
