"""Per-file resource limits: how long one file may take, how large it may be,
how much memory a worker may use.

lifecheck runs unattended on trees it has never seen.  One hostile or
pathological file (a macro bomb, a generated 20 MB table, an expression
nested a thousand deep, a header that is a named pipe) must cost that file,
with a notice naming the file and the limit, never the run.

- ``file_timeout``: wall-clock seconds for the whole analysis of one file
  (preprocessing, parsing, extraction).  Enforced with ``SIGALRM`` in the
  process that analyses the file; in worker processes a CPU-time limit of
  twice that (``RLIMIT_CPU``) is the backstop for code that does not return
  to the interpreter.
- ``max_file_size``: source files larger than this are skipped.
- ``max_preprocessed``: the preprocessor's output may not exceed this
  (``RLIMIT_FSIZE`` on the preprocessor; its output goes to a file).
- ``worker_memory``: address space of each worker process
  (``RLIMIT_AS``); a file that needs more raises ``MemoryError`` or kills
  its worker, and only that file is lost.

This module knows nothing about C, pycparser or the rules.
"""
from __future__ import annotations

import math
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

try:
    import resource
except ImportError:  # pragma: no cover - not POSIX
    resource = None  # type: ignore[assignment]

MB = 1024 * 1024

# Measured on QEMU 10.2.2 hw/ (docs/robustness.md): the largest source is
# 0.27 MB (hw/nvme/ctrl.c), the largest preprocessed output 1.2 MB
# (hw/arm/virt.c), the costliest file 3.7 s of CPU and 35 MB resident
# (39 MB of address space) analysed alone; the largest process of a whole
# hw/ run peaks at 638 MB.  The defaults leave a wide margin above that.
DEFAULT_FILE_TIMEOUT = 300.0
DEFAULT_MAX_FILE_SIZE = 8 * MB
DEFAULT_MAX_PREPROCESSED = 128 * MB
DEFAULT_WORKER_MEMORY = 2048 * MB


@dataclass(frozen=True)
class Limits:
    file_timeout: float = DEFAULT_FILE_TIMEOUT  # 0: none
    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # 0: none
    max_preprocessed: int = DEFAULT_MAX_PREPROCESSED  # 0: none
    worker_memory: int = DEFAULT_WORKER_MEMORY  # 0: none
    # Analyse in worker processes even with one job, so that the memory and
    # CPU limits hold and a worker that dies costs only its file.  The
    # command line sets it; the library default keeps -j 1 in-process.
    isolate: bool = False


class FileTimeout(BaseException):
    """The analysis of one file ran past ``Limits.file_timeout``.

    A ``BaseException``, like ``KeyboardInterrupt``, so that the many
    ``except Exception`` in the parser's retry loops do not swallow it."""


def _on_alarm(signum, frame):
    raise FileTimeout()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise ``FileTimeout`` in the block after ``seconds`` of wall time.

    Only the main thread can receive signals; elsewhere this does nothing
    (the library is then used from a thread, and the caller owns time)."""
    if not seconds or seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def limit_worker_memory(limits: Limits) -> None:
    """Cap the address space of this (worker) process."""
    if resource is None or not limits.worker_memory:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = limits.worker_memory
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    if soft == resource.RLIM_INFINITY or soft > want:
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))


def cpu_budget(limits: Limits) -> float:
    """CPU seconds one file may use in a worker before it is killed."""
    return 2 * limits.file_timeout + 2


def arm_cpu_backstop(limits: Limits) -> None:
    """In a worker: allow this process about twice the file timeout of CPU
    time from now.  Code that never returns to the interpreter (so never
    sees ``SIGALRM``) is then killed with SIGXCPU, and the run goes on
    without that file."""
    if resource is None or not limits.file_timeout:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    soft = int(math.ceil(used + cpu_budget(limits)))
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


@contextmanager
def preprocessor_output_limit(max_bytes: int) -> Iterator[None]:
    """Around starting the preprocessor: it may write at most ``max_bytes``
    to any file (its output is a temporary file).  The soft limit of this
    process is lowered while the child is started, which inherits it, and
    put back at once.  (A ``preexec_fn`` would do the same in the child, but
    makes Python fork this whole process and run Python code in the child:
    about 10 ms of CPU and up to 40 ms of wall time per file in a worker of a
    few hundred MB, against under one ms with vfork.)"""
    if resource is None or not max_bytes:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    want = max_bytes if hard == resource.RLIM_INFINITY else min(max_bytes, hard)
    if soft != resource.RLIM_INFINITY and soft <= want:
        yield  # already at most that
        return
    resource.setrlimit(resource.RLIMIT_FSIZE, (want, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def megabytes(n: int) -> str:
    return f"{n / MB:.0f} MB" if n >= MB else f"{n} bytes"
