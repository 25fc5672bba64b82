"""Text output: one line per finding, the way compilers print diagnostics.

``path:line:col: severity: message [slug]`` so editors and CI log parsers
pick the lines up as they do gcc's.  Like every reporter it sees only a
``Report``: findings, ``model.Location`` and ``model.Notice``; it knows
nothing about pycparser, the program model or the rules' analyses.
"""
from __future__ import annotations

from ..findings import SEVERITIES, Report, notice_text


def _one_line(text: str) -> str:
    # A message spread over lines would break "one line per finding".
    return " ".join(text.split())


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def summary(rep: Report) -> str:
    """The closing line printed in verbose mode."""
    by_severity = [
        _count(sum(1 for f in rep.findings if f.severity == s), s)
        for s in reversed(SEVERITIES)
        if any(f.severity == s for f in rep.findings)
    ]
    findings = _count(len(rep.findings), "finding")
    if by_severity:
        findings += f" ({', '.join(by_severity)})"
    line = (f"{findings} in {_count(rep.files, 'file')}; "
            f"{rep.functions_recovered} of {rep.functions_found} functions analysed; "
            f"{_count(len(rep.notices), 'notice')}")
    if rep.suppressed:
        line += f"; {rep.suppressed} suppressed in the source"
    return line


def report(rep: Report, out, verbose: bool = False) -> None:
    """Write the findings of ``rep`` to the text stream ``out``.

    With ``verbose``, notices (places that could not be analysed) follow the
    findings, then a one-line summary."""
    for f in sorted(rep.findings, key=lambda f: f.sort_key()):
        out.write(f"{f.loc.file}:{f.loc.line}:{f.loc.col}: {f.severity}: "
                  f"{_one_line(f.message)} [{f.rule}]\n")
        fix = rep.fixes.get(f.fingerprint)
        if fix is not None:
            out.write(f"    {_one_line(fix.hint())}\n")
    if not verbose:
        return
    for n in sorted(rep.notices, key=lambda n: (n.file, n.line, n.kind, n.message)):
        out.write(f"{n.file}:{n.line}: note: {_one_line(notice_text(n))}\n")
    out.write(summary(rep) + "\n")
