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
from typing import Iterator, List

_TOKEN_RE = re.compile(
    r'^[ \t]*#[^\n]*'                 # line marker or stray directive
    r'|"(?:\\.|[^"\\\n])*"'           # string literal
    r"|'(?:\\.|[^'\\\n])*'"           # char literal
    r'|[{};]|\n',
    re.M,
)
_MARKER_RE = re.compile(r'^[ \t]*#\s*(?:line\s+)?(\d+)\s+"((?:\\.|[^"\\])*)"')

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


def split_chunks(text: str) -> List[Chunk]:
    """Split preprocessed text into chunks (line markers followed)."""
    chunks: List[Chunk] = []
    cur_file = "<unknown>"
    cur_line = 1
    depth = 0
    parts: List[str] = []       # text pieces of the current chunk
    start_file = cur_file
    start_line = 0
    pos = 0
    brace_after_paren = False

    def flush(end_line: int) -> None:
        nonlocal parts, start_line, brace_after_paren
        body = "".join(parts).strip()
        if body and body != ";":
            chunks.append(Chunk(start_file, start_line, body,
                                _classify(body, brace_after_paren), end_line))
        parts = []
        start_line = 0
        brace_after_paren = False

    for m in _TOKEN_RE.finditer(text):
        tok = m.group(0)
        seg = text[pos:m.start()]
        if seg.strip() and start_line == 0:
            start_file, start_line = cur_file, cur_line
        parts.append(seg)
        pos = m.end()
        if tok == "\n":
            parts.append("\n")
            cur_line += 1
            continue
        if tok.lstrip().startswith("#"):
            mm = _MARKER_RE.match(tok)
            if mm:
                cur_line = int(mm.group(1)) - 1  # the newline that follows bumps it
                cur_file = mm.group(2)
                if start_line:
                    # keep the marker inside the chunk so coordinates stay right
                    parts.append(tok)
            continue
        if start_line == 0:
            start_file, start_line = cur_file, cur_line
        parts.append(tok)
        if tok == "{":
            if depth == 0:
                before = "".join(parts[:-1]).rstrip()
                brace_after_paren = before.endswith(")")
            depth += 1
        elif tok == "}":
            depth -= 1
            if depth < 0:
                depth = 0
            if depth == 0 and brace_after_paren:
                flush(cur_line)
        elif tok == ";" and depth == 0:
            flush(cur_line)
    tail = text[pos:]
    if tail.strip():
        if start_line == 0:
            start_file, start_line = cur_file, cur_line
        parts.append(tail)
    flush(cur_line)
    return chunks


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
