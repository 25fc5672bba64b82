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


def _debian_sources() -> str:
    src = Path("/etc/apt/sources.list.d/debian.sources")
    if not src.is_file():
        raise RuntimeError("no /etc/apt/sources.list.d/debian.sources to derive a deb-src entry from")
    text = src.read_text()
    uris = keys = None
    for block in text.split("\n\n"):
        fields = dict(line.split(":", 1) for line in block.splitlines()
                      if ":" in line and not line.startswith("#"))
        if fields.get("Suites", "").split()[:1] and "security" not in fields.get("Suites", ""):
            uris, keys = fields.get("URIs", "").strip(), fields.get("Signed-By", "").strip()
            break
    if not uris:
        raise RuntimeError("cannot find the Debian archive URI in debian.sources")
    return (f"Types: deb-src\nURIs: {uris}\nSuites: bookworm trixie sid\n"
            f"Components: main\nSigned-By: {keys}\n")


def fetch_qemu(version: str) -> Path:
    """The unpacked QEMU ``version`` source tree, downloaded once with
    ``apt-get source`` (DESIGN.md section 5) and cached outside the repo.
    Raises RuntimeError with the reason when that is impossible."""
    cache = _cache_dir()
    dest = cache / f"qemu-{version}"
    if (dest / "VERSION").is_file():
        return dest
    env_tree = os.environ.get("LIFECHECK_QEMU_" + version.replace(".", "_"))
    if env_tree and (Path(env_tree) / "VERSION").is_file():
        return Path(env_tree)
    if shutil.which("apt-get") is None:
        raise RuntimeError("apt-get is not available to fetch the Debian source package")
    if os.geteuid() != 0:
        raise RuntimeError("fetching the QEMU source package needs root (apt-get update)")
    src_list = Path("/etc/apt/sources.list.d/lifecheck-deb-src.sources")
    if not src_list.exists():
        src_list.write_text(_debian_sources())
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
