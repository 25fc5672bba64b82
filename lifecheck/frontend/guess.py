"""Guess the type names a chunk uses that no header declared.

QEMU files include headers of external libraries (spice, virglrenderer,
libusb, Xen, libvfio-user, ...) that the tree does not ship; the
preprocessor answers them with empty stubs, so a name such as ``QXLRect``
reaches the parser as a plain identifier and the function using it fails
to parse, or (``QXLRing *ring = x;``, ``QXLRing *ring;``) parses with the
declaration read as a product, which the parser notes (parse.py,
``misread``).  The parser cannot be told "some name here is a type": this
module reads the chunk's tokens and returns the identifiers used where only
a type can stand, so the caller can declare them as typedef names and parse
the chunk again.

Only positions where C leaves no other reading count as evidence:

- two identifiers in a row, ``Foo x`` (``static Foo x;``, ``Foo x = ...``,
  a parameter ``(Foo x, ...)``, a field, a return type ``Foo f(...)``):
  an expression never has two identifiers side by side;
- ``Foo *x`` where a declaration starts (the start of a block or a
  statement, the init clause of ``for``, a field), followed by ``;``,
  ``,``, ``=``, ``[`` or ``(``, unless ``x`` is a variable already (then
  it is a product); ``Foo *x`` or ``Foo *`` as a parameter in the head of
  the declaration (before its body or initializer);
- a cast to a pointer, ``(Foo *)``, ``(const Foo **)``: ``a *`` cannot
  end an expression;
- a cast ``(Foo) x`` or a compound literal ``(Foo) { ... }`` after ``=``,
  ``(``, ``,``, ``return`` or an operator, followed by an identifier, a
  number or ``{`` (``if (x) y`` and ``if (x) {`` are excluded by the
  token before the parenthesis).

A name is never guessed when the chunk or the file uses it as something
else: declared (``int Foo``, ``Foo`` after a type in a declaration),
called (``Foo(``), assigned (``Foo =``), indexed, incremented, a field's
owner (``Foo.x``, ``Foo->x``), or known to the parser as a variable,
function or enumerator (a name the file scope holds as non-type).  Keywords
and names reserved to the implementation (``__x``, ``_X``) are never
guessed.
"""
from __future__ import annotations

import re
from typing import Dict, List, Mapping, Optional, Sequence, Set, Tuple

# pycparser's C keywords and the GNU ones pycparserext adds (those it can
# see), plus a few spellings the lexers treat as keywords
_KEYWORDS = frozenset("""
    auto break case char const continue default do double else enum extern float for goto
    if inline int long register restrict return short signed sizeof static struct switch
    typedef union unsigned void volatile while _Bool _Complex typeof asm
    _Alignas _Alignof _Atomic _Noreturn _Pragma _Static_assert _Thread_local
    __asm __asm__ __attribute __attribute__ __builtin_offsetof __builtin_va_arg __const
    __const__ __extension__ __inline __inline__ __int128 __label__ __restrict __restrict__
    __signed __signed__ __thread __typeof __typeof__ __volatile __volatile__ __real__
    __imag__ __auto_type __alignof__ __alignof __builtin_types_compatible_p
""".split())

# words that may come between a type name and its declarator, or before a
# declaration's type
_QUALIFIERS = frozenset("""
    const volatile restrict __restrict __restrict__ __const __const__ __volatile __volatile__
    _Atomic
""".split())
_STORAGE = frozenset("""
    static extern register auto inline __inline __inline__ typedef __thread _Thread_local
    __extension__ _Noreturn
""".split()) | _QUALIFIERS
# built-in type words: an identifier right after one is being declared
_TYPE_WORDS = frozenset("""
    void char short int long float double signed unsigned _Bool _Complex __int128
    __signed __signed__
""".split())
_ATTRIBUTES = frozenset(("__attribute__", "__attribute", "__asm__", "__asm", "asm"))

# one token: a string or character literal, an identifier, a number, or a
# punctuator (the multi-character ones first)
_TOKEN_RE = re.compile(r"""
    (?P<lit>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<id>[A-Za-z_$][\w$]*)
  | (?P<num>\.?[0-9](?:[eEpP][+-]|[\w.])*)
  | (?P<p>->|\+\+|--|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|\.\.\.|\S)
""", re.X)
_MARKER_LINE_RE = re.compile(r"^[ \t]*#.*$", re.M)

# tokens after which "(" opens an expression, not a call or a statement's
# condition: what may come before a cast
_BEFORE_CAST = frozenset("= ( , return [ ? : ! ~ + - * / % & | ^ < > <= >= == != && || += -= *= /= %= &= "
                         "|= ^= <<= >>= << >>".split()) | {"{"}


Token = Tuple[str, str]  # (kind, text): kind is "id", "kw", "num", "lit" or "p"


def tokens(text: str) -> List[Token]:
    """The tokens of a chunk (line markers and other directives left out)."""
    if "#" in text:
        text = _MARKER_LINE_RE.sub(" ", text)
    out: List[Token] = []
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "id" and value in _KEYWORDS:
            kind = "kw"
        out.append((kind, value))
    return out


def _reserved(name: str) -> bool:
    return name.startswith("__") or (len(name) > 1 and name[0] == "_" and name[1].isupper())


class _Scan:
    """One pass over a chunk's tokens, collecting evidence and exclusions."""

    def __init__(self, toks: Sequence[Token], is_type: Mapping[str, bool]):
        self.toks = toks
        self.is_type = is_type
        self.evidence: Dict[str, int] = {}   # name -> first token index
        self.not_types: Set[str] = set()
        # names the chunk declares with a known type (``int n``,
        # ``Known *p``): a ``x * n`` that "declares" one again, or one the
        # file declares, is a multiplication
        self.variables: Set[str] = set()

    def known_type(self, i: int) -> bool:
        kind, value = self.toks[i]
        return (kind == "kw" and value in _TYPE_WORDS) or (kind == "id" and self.is_type.get(value) is True)

    def at(self, i: int) -> Token:
        return self.toks[i] if 0 <= i < len(self.toks) else ("", "")

    def skip_attributes(self, i: int) -> int:
        """Past ``__attribute__((...))`` / ``asm(...)`` groups at ``i``."""
        toks = self.toks
        while self.at(i)[1] in _ATTRIBUTES and self.at(i + 1)[1] == "(":
            depth, i = 0, i + 1
            while i < len(toks):
                if toks[i][1] == "(":
                    depth += 1
                elif toks[i][1] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                i += 1
            i += 1
        return i

    def skip_words(self, i: int, words) -> int:
        while True:
            j = self.skip_attributes(i)
            if self.at(j)[1] in words:
                i = j + 1
            elif j != i:
                i = j
            else:
                return i

    def stars(self, i: int) -> Tuple[int, int]:
        """At ``i``, ``[quals] * [quals] * ... [quals]``: the index after it
        and the number of ``*``."""
        k = self.skip_words(i, _QUALIFIERS)
        n = 0
        while self.at(k)[1] == "*":
            n += 1
            k = self.skip_words(k + 1, _QUALIFIERS)
        return k, n

    def pointer_declarator(self, i: int, ends) -> Optional[int]:
        """At ``i``, ``[quals] *... [quals] IDENT`` followed by one of
        ``ends``: the index of IDENT, else None.  At least one ``*``."""
        j, stars = self.stars(i)
        if not stars or self.at(j)[0] != "id":
            return None
        after = self.skip_attributes(j + 1)
        return j if self.at(after)[1] in ends else None

    def note(self, name: str, i: int) -> None:
        self.evidence.setdefault(name, i)

    def run(self) -> None:
        toks = self.toks
        n = len(toks)
        # braces: True for a block or a struct body (declarations may start
        # inside), False for an initializer list
        braces: List[bool] = []
        # in the head of the declaration (before its body or initializer),
        # each "(" opens a parameter list (True) when it follows the
        # declarator's name or a ")" (``(*fp)(``), else something else
        header = True
        parens: List[bool] = []
        prev = ("", "")
        for i in range(n):
            kind, value = toks[i]
            nxt = self.at(i + 1)
            if kind == "p":
                if value == "{":
                    # an initializer after "=", and inside one after "," or "{";
                    # a block (or a struct body, a statement expression) else
                    init = prev[1] == "=" or (prev[1] in (",", "{") and bool(braces) and not braces[-1])
                    braces.append(not init)
                    header = False
                elif value == "}":
                    if braces:
                        braces.pop()
                elif value == "(":
                    parens.append(header and (prev[0] == "id" or prev[1] == ")"))
                    self._cast(i)
                elif value == ")":
                    if parens:
                        parens.pop()
                elif value == "=" and not parens:
                    header = False
                if value in ("(", ",") and parens and parens[-1]:
                    self._parameter(i + 1)
                prev = toks[i]
                continue
            if kind != "id":
                prev = toks[i]
                continue
            # what this identifier is not
            if nxt[1] == "(" or nxt[1] in ("=", "[", ".", "->", "++", "--") or prev[1] in (".", "->", "++", "--"):
                self.not_types.add(value)
            elif prev[1] in ("struct", "union", "enum", "goto"):
                pass
            elif self.known_type(i - 1) or (prev[1] in _QUALIFIERS or prev[1] == "*") \
                    and self._after_type_stars(i - 1):
                self.not_types.add(value)   # int x; Known *const x
                self.variables.add(value)
            # two identifiers in a row: the first is a type
            if prev[1] not in ("struct", "union", "enum", ".", "->", "goto"):
                j = self.skip_words(i + 1, _QUALIFIERS)
                if self.at(j)[0] == "id":
                    self.note(value, i)
                    self.not_types.add(self.at(j)[1])
            # Foo *x where a declaration starts
            if self._declaration_start(i, braces):
                j = self.pointer_declarator(i + 1, (";", ",", "=", "[", "(", ":"))
                if j is not None and toks[j][1] not in self.variables \
                        and self.is_type.get(toks[j][1]) is not False:
                    self.note(value, i)
                    self.not_types.add(toks[j][1])
            prev = toks[i]

    def _after_type_stars(self, i: int) -> bool:
        """Tokens ending at ``i`` are ``TYPE [quals] *...`` with TYPE a
        keyword type or a known typedef name."""
        while i >= 0 and (self.toks[i][1] == "*" or self.toks[i][1] in _QUALIFIERS):
            i -= 1
        return i >= 0 and self.known_type(i)

    def _declaration_start(self, i: int, braces: List[bool]) -> bool:
        """A declaration may start at identifier ``i`` (after storage words)."""
        j = i - 1
        while j >= 0 and (self.toks[j][1] in _STORAGE):
            j -= 1
        if j < 0:
            return True
        before = self.toks[j][1]
        if before in (";", "}"):
            return not braces or braces[-1]
        if before == "{":
            return bool(braces) and braces[-1]
        if before == "(" and self.at(j - 1)[1] == "for":
            return True
        return False

    def _parameter(self, i: int) -> None:
        """``Foo *p`` / ``Foo *`` as a parameter of the function defined."""
        j = self.skip_words(i, _QUALIFIERS)
        kind, value = self.at(j)
        if kind != "id":
            return
        k = self.pointer_declarator(j + 1, (",", ")", "["))
        if k is not None:
            self.note(value, j)
            self.not_types.add(self.toks[k][1])
            return
        # an unnamed pointer parameter: Foo *, Foo **)
        k, stars = self.stars(j + 1)
        if stars and self.at(k)[1] in (",", ")"):
            self.note(value, j)

    def _cast(self, i: int) -> None:
        """``(Foo *)`` anywhere; ``(Foo) x`` where a cast can stand."""
        j = self.skip_words(i + 1, _QUALIFIERS)
        kind, value = self.at(j)
        if kind != "id":
            return
        k, stars = self.stars(j + 1)
        if self.at(k)[1] != ")":
            return
        if stars:
            self.note(value, j)
            return
        before = self.at(i - 1)
        after = self.at(k + 1)
        if before[1] in _BEFORE_CAST and (before[0] == "p" or before[1] == "return") \
                and (after[0] in ("id", "num") or after[1] == "{") and after[1] not in _KEYWORDS:
            self.note(value, j)  # a cast, or a compound literal "(Foo) { ... }"


def guess_type_names(text: str, is_type: Mapping[str, bool]) -> List[str]:
    """The identifiers ``text`` (one chunk) uses where only a type name can
    stand and that are not declared as types, in order of first use.
    ``is_type`` is the parser's scope: name -> True for a typedef name,
    False for a variable, function or enumerator."""
    scan = _Scan(tokens(text), is_type)
    scan.run()
    return [name for name, _ in sorted(scan.evidence.items(), key=lambda kv: kv[1])
            if _guessable(name, is_type) and name not in scan.not_types]


def _guessable(name: str, is_type: Mapping[str, bool]) -> bool:
    return name not in _KEYWORDS and not _reserved(name) and name not in is_type
