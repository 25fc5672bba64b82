"""What `pip install .` puts in the wheel: every package of lifecheck/.

The packages are listed by hand in pyproject.toml (rules/ travels as
lifecheck._rules); a new package left out installs a lifecheck that fails
at its first import of it (``pip install .`` in CI, not the editable
install the tests use)."""
from __future__ import annotations

from conftest import REPO

try:
    import tomllib
except ModuleNotFoundError:   # Python < 3.11
    import tomli as tomllib


def test_every_package_is_in_the_wheel():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "lifecheck").rglob("__init__.py")}
    assert found - listed == set(), "add them to [tool.setuptools] packages in pyproject.toml"
