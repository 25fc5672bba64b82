"""scripts/benchmark.py: the comparison of cold runs against another
revision (``--against REV --pairs N``), which judges a bound such as "cold
time grows by at most 10%" on a machine where one pair moves by +-10%."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from conftest import EXAMPLES, REPO

sys.path.insert(0, str(REPO / "scripts"))
import benchmark  # noqa: E402


def test_pairs_are_summed_up_by_their_median_and_by_their_sums():
    runs = [((100.0, 200.0), (105.0, 206.0)), ((110.0, 210.0), (108.0, 205.0)), ((90.0, 180.0), (100.0, 190.0))]
    table = benchmark.compare_pairs(runs, "7264dc9").splitlines()
    assert table[0] == "| pair | 7264dc9: wall / CPU | this checkout: wall / CPU | wall | CPU |"
    assert table[2:5] == ["| 1 | 100.0 s / 200.0 s | 105.0 s / 206.0 s | +5.0% | +3.0% |",
                          "| 2 | 110.0 s / 210.0 s | 108.0 s / 205.0 s | -1.8% | -2.4% |",
                          "| 3 | 90.0 s / 180.0 s | 100.0 s / 190.0 s | +11.1% | +5.6% |"]
    # one pair over +10% does not decide: the median and the sums do
    assert table[-1] == "Median of the pairs: wall +5.0%, CPU +3.0%; sums: wall +4.3%, CPU +1.9%."


def _git_ok() -> bool:
    return shutil.which("git") is not None and subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", "HEAD"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _git_ok(), reason="needs a git checkout of lifecheck (git archive of a revision)")
def test_a_revision_is_snapshotted_and_its_cold_runs_alternate_with_ours(tmp_path):
    dst = tmp_path / "snap"
    benchmark.snapshot("HEAD", dst)
    committed = subprocess.run(["git", "-C", str(REPO), "show", "HEAD:lifecheck/__init__.py"],
                               capture_output=True, check=True).stdout
    assert (dst / "lifecheck" / "__init__.py").read_bytes() == committed
    assert (dst / "rules").is_dir()
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "benchmark.py"), "--root", str(EXAMPLES),
                          "--against", "HEAD", "--pairs", "2", "hw"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "warning:" not in out.stderr
    order = [line.split(":")[0] for line in out.stdout.splitlines() if line.startswith("pair ")]
    # HEAD first in the first pair, this checkout first in the second
    assert order == ["pair 1, HEAD", "pair 1, this checkout", "pair 2, this checkout", "pair 2, HEAD"]
    assert "Median of the pairs: wall " in out.stdout


def test_a_revision_that_does_not_exist_is_refused_before_the_runs(tmp_path):
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "benchmark.py"), "--root", str(EXAMPLES),
                          "--against", "no-such-revision-xyz", "hw"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "--against no-such-revision-xyz: not a revision of the repository" in out.stderr
    assert "gcc -E alone" not in out.stdout
