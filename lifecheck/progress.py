"""A one-line progress display for long runs: ``[ 523/1421] hw/net/e1000.c``
rewritten in place on a terminal.  The CLI only creates it when standard
error is a terminal and ``--quiet`` is not given, so CI logs stay clean."""
from __future__ import annotations

import time
from typing import IO, Callable, Optional


class ProgressBar:
    """Callable as ``progress(done, total, file)``; ``close()`` erases the
    line.  Redraws at most every ``interval`` seconds (and on the last
    file), so a warm run over a thousand cached files does not spend its
    time writing to the terminal."""

    def __init__(self, stream: IO[str], interval: float = 0.1,
                 clock: Callable[[], float] = time.monotonic):
        self.stream = stream
        self.interval = interval
        self.clock = clock
        self._last: Optional[float] = None
        self._width = 0

    def __call__(self, done: int, total: int, file: str) -> None:
        now = self.clock()
        if done < total and self._last is not None and now - self._last < self.interval:
            return
        self._last = now
        digits = len(str(total))
        line = f"[{done:>{digits}}/{total}] {file}"
        if len(line) > 100:
            line = line[:97] + "..."
        pad = max(0, self._width - len(line))
        self._width = len(line)
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()

    def close(self) -> None:
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0
