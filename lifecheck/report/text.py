"""Text output: one line per finding, the way compilers print diagnostics.

``path:line:col: severity: message -- consequence [slug]`` so editors and
CI log parsers pick the lines up as they do gcc's; the consequence says
what goes wrong and when (findings.CONSEQUENCES).  Like every reporter it sees only a
``Report``: findings, ``model.Location`` and ``model.Notice``; it knows
nothing about pycparser, the program model or the rules' analyses.
"""
from __future__ import annotations

from ..findings import CONSEQUENCES, SEVERITIES, Finding, Report, finding_order, files_not_fully_analysed, notice_text


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


def consequence_text(f: Finding) -> str:
    """What goes wrong, after the message: `` -- use after free after
    unplug`` (`` (in principle)`` when the device cannot meet the event);
    "" for a finding with no consequence of its own."""
    c = CONSEQUENCES.get(f.consequence)
    if c is None or f.consequence == "none":
        return ""
    return f" -- {c.title}" + (" (in principle)" if f.in_principle else "")


def _by_severity(counts) -> str:
    return ", ".join(_count(counts[s], s) for s in reversed(SEVERITIES) if counts.get(s))


def closing(rep: Report, show_all_flag: str) -> str:
    """The summary every run ends with on standard error: files analysed,
    findings shown per severity, how many the default view hides and the
    flag that shows them, files not fully analysed."""
    shown = {s: sum(1 for f in rep.findings if f.severity == s) for s in SEVERITIES}
    line = f"{_count(len(rep.findings), 'finding')}"
    if rep.findings:
        line += f" ({_by_severity(shown)})"
    line += f" in {_count(rep.files, 'file')} analysed"
    hidden = rep.hidden or {}
    if sum(hidden.values()):
        line += (f"; {sum(hidden.values())} more hold only in principle ({_by_severity(hidden)}; "
                 f"devices never unplugged, paths never taken): {show_all_flag} shows them")
    hid = [(rep.suppressed, "suppressed in the source"), (rep.ignored_by_path, "ignored by path"),
           (rep.baselined, "in the baseline"), (rep.outside_diff, "outside the diff")]
    line += "".join(f"; {n} {what}" for n, what in hid if n)
    partial = files_not_fully_analysed(rep)
    if partial:
        line += f"; {_count(partial, 'file')} not fully analysed (-v lists why)"
    return line


def report(rep: Report, out, verbose: bool = False) -> None:
    """Write the findings of ``rep`` to the text stream ``out``: by file,
    the worst first within a file (``findings.finding_order``).

    With ``verbose``, notices (places that could not be analysed) follow the
    findings, then a one-line summary."""
    for f in sorted(rep.findings, key=finding_order):
        out.write(f"{f.loc.file}:{f.loc.line}:{f.loc.col}: {f.severity}: "
                  f"{_one_line(f.message)}{consequence_text(f)} [{f.rule}]\n")
        fix = rep.fixes.get(f.fingerprint)
        if fix is not None:
            out.write(f"    {_one_line(fix.hint())}\n")
    if not verbose:
        return
    for n in sorted(rep.notices, key=lambda n: (n.file, n.line, n.kind, n.message)):
        out.write(f"{n.file}:{n.line}: note: {_one_line(notice_text(n))}\n")
    out.write(summary(rep) + "\n")
