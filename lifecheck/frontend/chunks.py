"""Split preprocessed C into top-level chunks.

One chunk is one external declaration: a function definition, a typedef, a
struct/union/enum definition, a variable or a prototype.  Each chunk
remembers the file and line where it starts (from the preprocessor's line
markers), so that it can be parsed alone and still carry the user's
coordinates.  No C parser is involved: a small scanner tracks braces,
semicolons, string and character literals.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Tuple

# Characters the splitter stops at; everything else is skipped by the
# regex engine.  "\n" is not among them: lines are counted only where a
# chunk starts or ends.
_STOP_RE = re.compile(r'[{};"\'#]')
# (loops over escapes unrolled: the same matches, several times faster)
_STRING_RE = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"')
_CHAR_RE = re.compile(r"'[^'\\\n]*(?:\\.[^'\\\n]*)*'")
_MARKER_RE = re.compile(r'^[ \t]*#\s*(?:line\s+)?(\d+)\s+"([^"\\]*(?:\\.[^"\\]*)*)"')
_MARKER_AT_RE = re.compile(_MARKER_RE.pattern[1:])  # the same, matched at a position

FUNCTION = "function"
TYPEDEF = "typedef"
TAG = "tag"            # struct/union/enum definition (maybe with declarators)
OTHER = "other"        # variables, prototypes, initialisers


@dataclass
class Chunk:
    file: str          # as named by the line markers
    line: int          # line of the chunk's first text
    text: str          # the chunk without line markers
    kind: str
    end_line: int = 0

    def source(self) -> str:
        """The chunk with a line marker, ready for pycparser."""
        escaped = self.file.replace("\\", "\\\\").replace('"', '\\"')
        return f'# {self.line} "{escaped}"\n{self.text}\n'


def _classify(text: str, brace_after_paren: bool) -> str:
    head = text.lstrip()
    if head.startswith("typedef"):
        return TYPEDEF
    if brace_after_paren:
        return FUNCTION
    if re.match(r"(?:(?:static|const|extern|volatile|inline)\s+)*(?:struct|union|enum)\b[^=;(]*\{", head):
        return TAG
    return OTHER


# Header segments already split in this process, keyed by the segment's
# text (which starts with its line marker): its chunks, the marker's file,
# the line before the marker's line, and the marker line's end (offset).
SegmentCache = Dict[str, Tuple[List[Chunk], str, int, int]]
_SEGMENT_CACHE_LIMIT = 400_000


def split_chunks(text: str, segment_cache: Optional[SegmentCache] = None,
                 cacheable: Optional[Callable[[str], bool]] = None, whole_segments: bool = False) -> list:
    """Split preprocessed text into chunks (line markers followed).

    A chunk's text is the source from its first character to its closing
    ``;`` or ``}``, with the line markers inside it kept (so coordinates
    stay right) and other directives dropped.  This runs over every byte of
    every header a file includes, so it avoids per-line work: lines are
    counted with ``str.count`` between the places that need a number, and
    semicolons inside braces are not even looked at.

    With ``segment_cache``, the text is handled one segment at a time (a
    line marker and the text up to the next directive), and a segment that
    starts and ends between two chunks is split once per process: every
    QEMU file includes mostly the same headers.  ``cacheable(file)`` says
    which files' segments are worth keeping (not the file being checked).
    With ``whole_segments``, a segment found in the cache is returned as
    one item, the cached list of its chunks itself (the same list object
    every time), instead of its chunks."""
    chunks: List[Chunk] = []
    cur_file = "<unknown>"
    # line of position base_pos is base_line; other lines are counted from it
    base_pos, base_line = 0, 1
    depth = 0
    start = -1                  # position of the current chunk's first character
    start_file, start_line = cur_file, 0
    cuts: List[Tuple[int, int]] = []   # directives to drop from the current chunk
    brace_after_paren = False
    count = text.count
    pos = 0
    n = len(text)

    def line_at(p: int) -> int:
        nonlocal base_pos, base_line
        base_line += count("\n", base_pos, p)
        base_pos = p
        return base_line

    def body(end: int) -> str:
        if not cuts:
            return text[start:end]
        pieces, at = [], start
        for s, e in cuts:
            pieces.append(text[at:s])
            at = e
        pieces.append(text[at:end])
        return "".join(pieces)

    def begin(p: int) -> None:
        nonlocal start, start_file, start_line
        start = p
        start_file, start_line = cur_file, line_at(p)

    def first_char(a: int, b: int) -> int:
        # position of the first non-blank character in text[a:b], or -1
        seg = text[a:b]
        stripped = seg.lstrip()
        return b - len(stripped) if stripped else -1

    skip = 0                    # inside a literal or directive already handled
    markers = 0                 # line markers seen
    seg_start = 0
    while seg_start < n:
        nxt = text.find("\n#", seg_start)
        seg_end = n if nxt < 0 else nxt + 1   # a directive line starts the next segment
        key = mm = None
        if segment_cache is not None and depth == 0 and start < 0 and text.startswith("#", seg_start) \
                and (pos == seg_start or first_char(pos, seg_start) < 0):
            key = text[seg_start:seg_end]
            hit = segment_cache.get(key)
            if hit is not None and (cacheable is None or cacheable(hit[1])):
                # the segment's chunks, and its marker's file, line and end
                part, cur_file, base_line, newline = hit
                if whole_segments:
                    chunks.append(part)
                else:
                    chunks.extend(part)
                base_pos = seg_start + newline
                pos = skip = seg_end
                seg_start = seg_end
                continue
            mm = _MARKER_AT_RE.match(text, seg_start, seg_end)
            if mm is None or (cacheable is not None and not cacheable(mm.group(2))):
                key = None
        first_new, markers_before = len(chunks), markers
        for m in _STOP_RE.finditer(text, seg_start, seg_end):
            tok_start = m.start()
            if tok_start < skip:
                continue
            c = text[tok_start]
            if c == ";" and depth:
                continue
            if c == "#":
                line_start = text.rfind("\n", 0, tok_start) + 1
                if text[line_start:tok_start].strip(" \t"):
                    continue  # not a directive ("#" inside a line)
                tok_start = line_start
                tok_end = text.find("\n", tok_start)
                if tok_end < 0:
                    tok_end = n
            elif c == '"' or c == "'":
                lit = (_STRING_RE if c == '"' else _CHAR_RE).match(text, tok_start)
                if lit is None:
                    continue  # unterminated: an ordinary character
                tok_end = lit.end()
            else:
                tok_end = tok_start + 1
            if start < 0 and tok_start > pos:
                p = first_char(pos, tok_start)
                if p >= 0:
                    begin(p)
            pos = skip = tok_end
            if c == "#":
                mm = _MARKER_RE.match(text[tok_start:tok_end])
                if mm:
                    base_pos, base_line = tok_end, int(mm.group(1)) - 1  # the newline bumps it
                    cur_file = mm.group(2)
                    markers += 1
                elif start >= 0:
                    cuts.append((tok_start, tok_end))
                continue
            if start < 0:
                begin(tok_start)
            if c == "{":
                if depth == 0:
                    brace_after_paren = body(tok_start).rstrip().endswith(")")
                depth += 1
            elif c == "}":
                depth -= 1
                if depth < 0:
                    depth = 0
                if depth == 0 and brace_after_paren:
                    _flush(chunks, body(tok_end), start_file, start_line, brace_after_paren, line_at(tok_start))
                    start, cuts, brace_after_paren = -1, [], False
            elif c == ";" and depth == 0:
                _flush(chunks, body(tok_end), start_file, start_line, brace_after_paren, line_at(tok_start))
                start, cuts, brace_after_paren = -1, [], False
        if key is not None and mm is not None and depth == 0 and start < 0 \
                and markers == markers_before + 1 and first_char(pos, seg_end) < 0:
            if len(segment_cache) >= _SEGMENT_CACHE_LIMIT:
                segment_cache.clear()
            newline = text.find("\n", seg_start, seg_end)
            segment_cache[key] = (chunks[first_new:], mm.group(2), int(mm.group(1)) - 1,
                                  (seg_end if newline < 0 else newline) - seg_start)
        seg_start = seg_end
    if start < 0 and pos < n:
        p = first_char(pos, n)
        if p >= 0:
            begin(p)
    if start >= 0:
        _flush(chunks, body(n), start_file, start_line, brace_after_paren, line_at(n))
    return chunks


def _flush(chunks: List[Chunk], raw: str, file: str, line: int, brace_after_paren: bool,
           end_line: int) -> None:
    body = raw.strip()
    if body and body != ";":
        chunks.append(Chunk(file, line, body, _classify(body, brace_after_paren), end_line))


def iter_typedef_names_fallback(text: str) -> Iterator[str]:
    """Typedef names declared by a chunk pycparser could not parse: a
    best-effort read of ``typedef ... NAME;`` and ``typedef R (*NAME)(...)``."""
    body = re.sub(r"\{.*\}", " ", text, flags=re.S)  # drop struct bodies
    for decl in body.split(","):
        m = re.search(r"\(\s*\*\s*([A-Za-z_]\w*)\s*\)\s*\(", decl)
        if m:
            yield m.group(1)
            continue
        m = re.search(r"([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*;?\s*$", decl.strip())
        if m and m.group(1) not in ("typedef", "struct", "union", "enum"):
            yield m.group(1)


_NAME_BEFORE_PAREN_RE = re.compile(r"([A-Za-z_]\w*)\s*\(")
# words that a "(" follows in a function's head without naming it
_NOT_NAMES = frozenset(("__attribute__", "__attribute", "__asm__", "__asm", "asm", "typeof", "__typeof__",
                        "__typeof", "__declspec", "_Alignas", "__extension__", "void", "char", "short",
                        "int", "long", "float", "double", "signed", "unsigned", "_Bool", "const",
                        "volatile", "static", "inline", "extern", "struct", "union", "enum"))


def function_name(text: str) -> str:
    """The name a function definition chunk defines, read from its head
    (for functions the parser could not read): the first identifier
    followed by "(" before the body; "" when there is none."""
    head = text.split("{", 1)[0]
    if "#" in head:
        head = re.sub(r"(?m)^[ \t]*#.*$", " ", head)
    for m in _NAME_BEFORE_PAREN_RE.finditer(head):
        if m.group(1) not in _NOT_NAMES:
            return m.group(1)
    return ""


def is_static(text: str) -> bool:
    """The chunk's head says ``static`` (before the body)."""
    return re.search(r"\bstatic\b", text.split("{", 1)[0].split("(", 1)[0]) is not None
