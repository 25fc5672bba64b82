"""Where a worker's time goes, per file: per-phase CPU timers over a sample.

    python scripts/phases.py --root /root/qemu-src/qemu-10.2.2 [--every 35] [--warm 5] [--gc] hw/

With ``PYTHONPATH`` pointing at another checkout, it measures that
checkout's code (the phases it wraps must exist there).

Analyses every N-th ``.c`` file (sorted) under the folders, in this one
process, as a worker does (the cyclic garbage collector paused during a
file, its young cycles collected after), after a few files to warm the
per-process caches.  Prints CPU milliseconds per file for each phase
(process time of this process; gcc's is its children's), the size of the
pickled units a worker sends back and the cost of pickling and unpickling
them.  Phases nest: "parse: main-file chunks", "header typedefs" and
"split into chunks" are inside "parse (all)"; "control-flow graphs" is
inside "extraction".
"""
from __future__ import annotations

import argparse
import collections
import gc
import pickle
import resource
import sys
import time
from pathlib import Path

sys.setrecursionlimit(10000)

from lifecheck import __version__  # noqa: E402
from lifecheck.cache import cache_root  # noqa: E402
import lifecheck.frontend.cfg as cfg  # noqa: E402
import lifecheck.frontend.parse as parse  # noqa: E402
import lifecheck.frontend.preprocess as preprocess  # noqa: E402
import lifecheck.frontend.unit as unit  # noqa: E402
from lifecheck.frontend.tree import QemuTree  # noqa: E402

TIMES: collections.Counter = collections.Counter()


def timed(owner, name: str, label: str) -> None:
    original = getattr(owner, name)

    def wrapper(*args, **kwds):
        start = time.process_time()
        try:
            return original(*args, **kwds)
        finally:
            TIMES[label] += time.process_time() - start
    setattr(owner, name, wrapper)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True, type=Path)
    ap.add_argument("--every", type=int, default=35)
    ap.add_argument("--warm", type=int, default=5, help="files analysed first, not timed")
    ap.add_argument("--gc", action="store_true",
                    help="leave the garbage collector on during files (as workers did before it was paused)")
    ap.add_argument("folders", nargs="+")
    args = ap.parse_args()
    tree = QemuTree.open(args.root.resolve())
    files = sorted(p for folder in args.folders for p in (tree.root / folder).rglob("*.c"))
    sample = files[::args.every]
    timed(preprocess.Preprocessor, "_spawn", "starting gcc, reading its output")
    timed(preprocess.Preprocessor, "check_inputs", "checking what gcc read")
    timed(unit, "include_closure", "include closure")
    timed(unit, "parse_preprocessed", "parse (all)")
    timed(parse, "split_chunks", "split into chunks")
    timed(parse.ResultBuilder, "main_chunk", "parse: main-file chunks")
    timed(parse.ResultBuilder, "header_typedef", "header typedefs")
    timed(unit.FunctionExtractor, "add_ast", "extraction")
    timed(cfg.CfgBuilder, "build", "control-flow graphs")
    pre = preprocess.Preprocessor(tree, preprocess.stub_dir_for(tree, cache_root(), __version__))
    for path in sample[:args.warm]:
        unit.analyse_file_with_closure(pre, path)
    TIMES.clear()
    units = []
    if not args.gc:
        gc.disable()
    cpu, children, wall = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    for path in sample:
        units.append(unit.analyse_file_with_closure(pre, path)[0])
        if not args.gc:
            gc.collect(0)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    gcc = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    n = len(sample)
    print(f"{n} files (every {args.every}th of {len(files)}); per file: Python {cpu * 1000 / n:.1f} ms CPU, "
          f"gcc {gcc * 1000 / n:.1f} ms CPU, wall {wall * 1000 / n:.1f} ms")
    for label, seconds in sorted(TIMES.items(), key=lambda kv: -kv[1]):
        print(f"  {label:34s} {seconds * 1000 / n:6.1f}")
    start = time.process_time()
    blobs = [pickle.dumps(u, protocol=pickle.HIGHEST_PROTOCOL) for u in units]
    pickled = time.process_time() - start
    start = time.process_time()
    for blob in blobs:
        pickle.loads(blob)
    unpickled = time.process_time() - start
    print(f"  pickled unit: {sum(map(len, blobs)) / n / 1000:.1f} kB, pickling {pickled * 1000 / n:.1f} ms, "
          f"unpickling {unpickled * 1000 / n:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
