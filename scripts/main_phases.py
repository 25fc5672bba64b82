"""Run ``lifecheck`` and print where the main process's time went.

    cd /root/qemu-src/qemu-10.2.2
    python /path/to/scripts/main_phases.py check --no-cache -q hw/ -j2 --format json -o /tmp/hw.json

Wraps ``analysis._build`` (the workers: their CPU is the children's),
``Program``, ``run_rules``, ``function_spans`` and ``collect_files`` with
timers, runs the command line as ``lifecheck`` would (``cli.main``) and
prints, on standard error: wall time up to the end of ``main``, the CPU of
this process and of its children, and per wrapped phase its wall time, this
process's CPU and the children's CPU.  The interpreter's teardown is not
skipped here (``cli.entry`` skips it), so the process lives longer than the
printed wall time.
"""
from __future__ import annotations

import resource
import sys
import time

START = time.perf_counter()

from lifecheck import analysis, cli  # noqa: E402

TIMES = {}


def timed(module, name: str) -> None:
    original = getattr(module, name)

    def wrapper(*args, **kwds):
        cpu, wall = time.process_time(), time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            return original(*args, **kwds)
        finally:
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            TIMES[name] = (time.perf_counter() - wall, time.process_time() - cpu,
                           after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    setattr(module, name, wrapper)


def main() -> int:
    for name in ("collect_files", "_build", "Program", "run_rules", "function_spans"):
        timed(analysis, name)
    code = cli.main(sys.argv[1:])
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"wall {time.perf_counter() - START:.1f} s; main process CPU {me.ru_utime + me.ru_stime:.1f} s; "
          f"children CPU {children.ru_utime + children.ru_stime:.1f} s; main peak RSS "
          f"{me.ru_maxrss // 1024} MB", file=sys.stderr)
    for name, (wall, cpu, child) in TIMES.items():
        print(f"  {name:16s} wall {wall:7.2f} s  main CPU {cpu:7.2f} s  children CPU {child:7.2f} s",
              file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
