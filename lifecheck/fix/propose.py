"""Candidate fixes of a finding, computed from the model that found it.

Every edit is placed from the model: the acquiring call's event (its
frames lead from the hook down to the call), the hooks the device type
binds (``HookRef``: function, binding line, class field), the functions'
extents and call sites.  The source text is read only to take a
statement's last line (the ``;`` that ends it), the indentation of a line,
and the line of a binding to copy.  The release call comes from the API
family (``ApiFamily.fix_releases``: never a ``frees-argument`` release on
a struct the device embeds); the arguments it needs beside the resource
are learnt from how the tree already calls it.

A finding gets candidates (``Candidate``) in the order they should be
tried, or a reason why no safe edit exists; ``recheck`` keeps the first
candidate that survives a new analysis of the edited file.
"""
from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ..facts import Facts
from ..facts.api import ApiCall, Op
from ..findings import Finding
from ..graph import DeviceType, Event, HookRef, Program
from ..model import SELF, AccessPath, CallSite, Function, Location, Param
from .edits import INDENT, Delete, Fix, Insert, NewHook

FunctionKey = Tuple[str, str]
Source = Callable[[str], Optional[List[str]]]   # file -> its lines (no newlines), None: unreadable

# ``FooState *s = FOO(dev);``: the declaration of a device state variable
_CAST_DECL_RE = re.compile(r"^\s*(?:const\s+)?(\w+)\s*\*\s*(\w+)\s*=\s*(\w+)\s*\(\s*(\w+)\s*\)\s*;\s*$")
_LEAD_VAR_RE = re.compile(r"^\s*&?\s*\(?\s*(\w+)\s*->")
# an identifier, with what comes before (a field: ``->`` or ``.``) and after (a call: ``(``)
_IDENT_RE = re.compile(r"(->|\.)?\s*\b([A-Za-z_]\w*)\b(\s*\()?")
# ``VGACommonState *s = &d->vga;``: a variable naming a member of another
_ADDR_DECL_RE = re.compile(r"^\s*(?:const\s+)?\w+\s*\*\s*(\w+)\s*=\s*&\s*(\w+)\s*->\s*([\w.]+)\s*;\s*$")
# ``T *v = <initialiser>;``
_ANY_DECL_RE = re.compile(r"^\s*(?:const\s+)?(\w+)\s*\*\s*(\w+)\s*=\s*(.+?)\s*;\s*$")
_IDENT_ONLY_RE = re.compile(r"^[A-Za-z_]\w*$")
_CALL_ONLY_RE = re.compile(r"^[A-Za-z_]\w*\s*\([^()]*\)$")


class NoFix(Exception):
    """No safe edit exists; the message says why (``fix: none (...)``)."""


@dataclass(frozen=True)
class Candidate:
    """One way to fix a finding; ``recheck`` decides."""

    fix: Fix
    how: str     # for the measurement: "release in unrealize (new hook)", ...


def _norm_type(t: str) -> str:
    return " ".join(t.replace("*", " * ").split()).replace("const ", "")


class Proposer:
    """Candidate fixes for the findings of one run (one linked program)."""

    def __init__(self, program: Program, facts: Facts, source: Source, headers: Sequence[str] = (),
                 rules: Optional[Dict[str, object]] = None):
        """``source(rel)``: a file's lines; ``headers``: the tree's header
        files (relative paths), where prototypes are looked up when the
        API family's own header lacks one; ``rules``: slug -> RuleSpec
        (a rule's configuration says which calls its findings are about)."""
        self.headers = list(headers)
        self.rules = dict(rules or {})
        self.program = program
        self.facts = facts
        self.api = facts.api
        self.source = source
        self.phase_of: Dict[str, str] = dict(program.phase_of)
        self._release_shapes: Dict[str, Optional[Tuple[int, Tuple[int, ...]]]] = {}
        self._extra: Dict[Tuple[int, str], Dict[str, str]] = {}

    # -- entry ---------------------------------------------------------------
    def candidates(self, f: Finding) -> List[Candidate]:
        """The candidate fixes of ``f``, best first; raises ``NoFix``."""
        shape = f.shape
        if shape == "missing-release" and self._request_of(f) is not None:
            return self._cancel_request(f)
        if shape == "missing-release" and self._link_of(f) is not None:
            return self._break_link(f)
        if shape == "missing-release" and any(r.role == "evidence" for r in f.related):
            return self._sibling_teardown_release(f)
        if shape == "missing-release":
            return self._missing_release(f)
        if shape == "error-exit-leak":
            return self._error_exit(f)
        if shape == "misplaced-release":
            return self._misplaced(f)
        if shape == "second-release":
            return self._second_release(f)
        if shape == "use-after-release":
            return self._use_after_release(f)
        if shape == "wrong-owner":
            return self._device_as_owner(f)
        raise NoFix("no fix pattern for this kind of finding")

    # -- reading the source --------------------------------------------------
    def lines(self, file: str) -> List[str]:
        got = self.source(file)
        if got is None:
            raise NoFix(f"cannot read {file}")
        return got

    def statement_end(self, file: str, line: int, col: int = 1) -> int:
        """The line of the ``;`` that ends the statement starting at
        ``line`` (parentheses balanced; strings and comments are rare in
        a release call and stop the scan)."""
        lines = self.lines(file)
        depth = 0
        for i in range(line, min(len(lines), line + 20) + 1):
            text = lines[i - 1]
            start = col - 1 if i == line else 0
            for ch in text[start:]:
                if ch in "([{":
                    depth += 1
                elif ch in ")]}":
                    depth -= 1
                    if depth < 0:
                        raise NoFix("the call is not a statement of its own")
                elif ch == ";" and depth == 0:
                    return i
                elif ch in "\"'":
                    continue
        raise NoFix(f"cannot find the end of the statement at {file}:{line}")

    def whole_statement(self, site: CallSite) -> Tuple[int, int]:
        """The lines of the statement that is just the call ``site``
        (``timer_free(s->t);``); ``NoFix`` when the call is part of a
        bigger statement, in a macro, or shares its lines."""
        lines = self.lines(site.loc.file)
        text = lines[site.loc.line - 1]
        head = text[:site.loc.col - 1]
        if head.strip() or not text[site.loc.col - 1:].startswith((site.callee or "?") + "("):
            raise NoFix("the call is part of a larger statement or a macro")
        if not site.discarded:
            raise NoFix("the call's value is used")
        end = self.statement_end(site.loc.file, site.loc.line, site.loc.col)
        last = _strip_comment(lines[end - 1])
        if last[-1:] != ";" or last.count(";") != 1:
            raise NoFix("the call shares its line with other code")
        prev = lines[site.loc.line - 2].rstrip() if site.loc.line > 1 else ""
        if re.match(r"^\s*(if|else|for|while)\b", prev) and not prev.endswith("{"):
            raise NoFix("the call is the body of an if or loop without braces")
        return site.loc.line, end

    def indent_of(self, file: str, line: int) -> str:
        text = self.lines(file)[line - 1]
        return text[:len(text) - len(text.lstrip())]

    def body_start(self, fn: Function) -> int:
        """The line of the function's opening brace."""
        lines = self.lines(fn.loc.file)
        for i in range(fn.loc.line, min(fn.end_line, len(lines)) + 1):
            if lines[i - 1].strip() == "{":
                return i
        raise NoFix(f"{fn.name}() does not open its body on a line of its own")

    def _member_insert(self, sfile: str, struct: Tuple[int, int], same_type: str, decl: str) -> Insert:
        """A new member ``decl`` of the struct at lines ``struct`` of
        ``sfile``: after its last member whose line matches ``same_type``
        (a regular expression), else at its end, indented as its first
        member."""
        first, last = struct
        slines = self.lines(sfile)
        at = last
        for i in range(first + 1, last):
            if re.match(rf"^\s*{same_type}", slines[i - 1]):
                at = i + 1
        ind = self.indent_of(sfile, first + 1) or INDENT
        return Insert(sfile, at, f"{ind}{decl}\n", (0,))

    def closing_brace(self, fn: Function) -> int:
        """The line of the function's closing brace (``Function.end_line``
        is its last statement's)."""
        lines = self.lines(fn.loc.file)
        for i in range(max(fn.end_line, fn.loc.line), min(len(lines), fn.end_line + 30) + 1):
            if lines[i - 1].rstrip() == "}":
                return i
        raise NoFix(f"{fn.name}() does not end with a closing brace on a line of its own")

    # -- naming the device in a function --------------------------------------
    def state_of(self, dev: DeviceType, first_field: str) -> Tuple[str, str, str]:
        """(type, variable name, QOM cast) of the device state that holds
        ``first_field``: read from a hook of the device (or of an
        ancestor) that uses the field directly (``s->timer``), and the
        declaration ``FooState *s = FOO(dev);`` found in one of the
        device's functions."""
        program = self.program
        found: Optional[Tuple[str, str]] = None
        funcs: List[Function] = []
        for phase in ("realize", "instance_init", "unrealize", "instance_finalize", "runtime"):
            for ev in program.events(dev, phase):
                if len(ev.frames) != 1:
                    continue
                fn = program.functions.get(ev.function)
                if fn is None:
                    continue
                funcs.append(fn)
                texts = []
                for i, a in enumerate(ev.args):
                    if a.path is not None and a.path.root == SELF and a.path.steps \
                            and a.path.steps[0][1] == first_field and i < len(ev.site.args):
                        texts.append(ev.site.args[i].text)
                if ev.result is not None and ev.result.root == SELF and ev.result.steps \
                        and ev.result.steps[0][1] == first_field:
                    texts.extend(a.lhs.text for a in fn.assignments
                                 if a.loc.line == ev.site.loc.line and a.rhs.callee == ev.site.callee)
                for text in texts:
                    m = _LEAD_VAR_RE.match(text or "")
                    if not m:
                        continue
                    typ = self.var_type(fn, m.group(1))
                    if typ and typ.endswith("*") and not typ.startswith(("void", "DeviceState", "Object ")):
                        found = (typ, m.group(1))
                        break
                if found:
                    break
            if found:
                break
        if found is None:
            raise NoFix(f"no hook of {dev.name} names the field '{first_field}' directly")
        typ, var = found
        cast = self.cast_for(typ, funcs)
        return typ, var, cast

    def var_type(self, fn: Function, name: str) -> Optional[str]:
        for p in fn.params:
            if p.name == name:
                return _norm_type(p.type)
        local = fn.locals.get(name)
        return _norm_type(local.type) if local is not None else None

    def cast_for(self, typ: str, funcs: Sequence[Function]) -> str:
        """The QOM cast macro the tree uses to get a ``typ`` from an
        object (``FOO`` of ``FooState *s = FOO(dev);``)."""
        base = typ.rstrip("* ").strip()
        seen = set()
        for fn in funcs:
            if id(fn) in seen:
                continue
            seen.add(id(fn))
            for local in fn.locals.values():
                if _norm_type(local.type) != typ:
                    continue
                lines = self.source(local.loc.file)
                if not lines or not 0 < local.loc.line <= len(lines):
                    continue
                m = _CAST_DECL_RE.match(lines[local.loc.line - 1])
                if m and m.group(1) == base:
                    return m.group(3)
        raise NoFix(f"no declaration 'FooState *s = FOO(obj);' shows the cast to {base}")

    def expr_in(self, dev: DeviceType, fn: Function, path: AccessPath,
                ops: List) -> str:
        """C text naming ``path`` (rooted at the device) inside ``fn``;
        appends the declaration of a state variable to ``ops`` when
        ``fn`` has none."""
        if path.root != SELF or not path.steps:
            raise NoFix(f"{path} is not a field of the device")
        text = ""
        for i, (op, name) in enumerate(path.steps):
            if op in ("[]", "*", "^"):
                raise NoFix(f"{path} is an element of an array or list: its release needs a loop")
            text += ("->" if i == 0 else op) + name
        typ, var, cast = self.state_of(dev, path.steps[0][1])
        if isinstance(fn, _Pending):
            fn.decls.append(f"{INDENT}{typ.rstrip(' *')} *{var} = {cast}({fn.params[0].name});\n")
            fn.device_vars.add(var)
            return ("&" if path.address_of else "") + var + text
        have = None
        for p in fn.params:
            if _norm_type(p.type) == typ:
                have = p.name
        for name, local in fn.locals.items():
            if _norm_type(local.type) == typ and not local.cleanup:
                have = have or name
        if have is None:
            taken = {p.name for p in fn.params} | set(fn.locals)
            if var in taken or not fn.params:
                raise NoFix(f"{fn.name}() has no {typ.rstrip(' *')} variable and '{var}' is taken")
            brace = self.body_start(fn)
            lines = self.lines(fn.loc.file)
            after = lines[brace].strip() if brace < len(lines) else ""
            blank = "" if after == "" else "\n"
            ops.append(Insert(fn.loc.file, brace + 1,
                              f"{INDENT}{typ.rstrip(' *')} *{var} = {cast}({fn.params[0].name});\n{blank}", (-1,)))
            have = var
        return ("&" if path.address_of else "") + have + text

    # -- naming a resource through the call chain ---------------------------------
    def acquired_text(self, op: Op) -> Optional[str]:
        """The C text of ``op``'s resource where it is acquired: the
        argument (``&s->mmio``) or the left-hand side the result is stored
        into (``s->timer = timer_new_ns(...)``)."""
        ev = op.event
        fn = self.program.functions.get(ev.function)
        if fn is None:
            return None
        if "result" in op.attrs:
            for a in fn.assignments:
                if a.loc.line == ev.site.loc.line and a.rhs.callee == ev.site.callee:
                    return a.lhs.text
            return None
        call = self.api.lookup(ev.site.callee, op.family, op.role)
        if call is None or not 0 <= call.resource < len(ev.site.args):
            return None
        text = ev.site.args[call.resource].text
        if text and "sets-pointer" in op.attrs and text.lstrip().startswith("&"):
            # error_setg(&s->err, ...) sets s->err: the resource is s->err
            text = _unparen(text.lstrip()[1:])
        return text

    def composed(self, ev: Event, text: str, check: bool = True) -> Optional[str]:
        """``text``, an expression of the function that makes ``ev``'s
        call, as the hook at the top of ``ev.frames`` names it: each
        parameter replaced by the caller's argument, level by level
        (``ar->tmr.timer`` in acpi_pm_tmr_init(ar) called with ``&s->ar``
        gives ``s->ar.tmr.timer``).  None when a local of a helper stands
        in the way."""
        frames = ev.frames
        functions = self.program.functions
        if check and not self.written_so(ev.site, text):
            return None
        for k in range(len(frames) - 1, 0, -1):
            callee = functions.get(frames[k][0])
            caller = functions.get(frames[k - 1][0])
            if callee is None or caller is None or frames[k - 1][1] >= len(caller.calls):
                return None
            site = caller.calls[frames[k - 1][1]]
            text = self._through_call(text, callee, caller, site)
            if text is None:
                return None
        return text

    def _through_call(self, text: str, callee: Function, caller: Function, site: CallSite) -> Optional[str]:
        params = {p.name: i for i, p in enumerate(callee.params)}
        out, pos = [], 0
        for m in _IDENT_RE.finditer(text):
            if m.group(1) or m.group(3):
                continue
            name = m.group(2)
            if name in params:
                i = params[name]
                if i >= len(site.args) or not self.written_so(site, site.args[i].text or ""):
                    return None
                arg = (site.args[i].text or "").strip()
            elif name in callee.locals:
                arg = self._alias_of(callee, name, params, site)
                if arg is None:
                    return None
            else:
                continue
            out.append(text[pos:m.start(2)])
            out.append(arg if _IDENT_ONLY_RE.match(arg) or arg.endswith(")") and _CALL_ONLY_RE.match(arg)
                       else f"({arg})")
            pos = m.end(2)
        out.append(text[pos:])
        return _simplify("".join(out), caller, self)

    def source_args(self, site: CallSite, macro: bool = False) -> Optional[List[str]]:
        """The arguments of the call at ``site`` as its source writes them
        (``TYPE_FOO`` where the model has the expansion), None when the
        source does not show as many arguments as the model.  ``macro``:
        the source may call a macro whose name starts the function's and
        that passes its leading arguments on
        (``aio_bh_schedule_oneshot(ctx, cb, opaque)`` for
        ``aio_bh_schedule_oneshot_full(ctx, cb, opaque, "cb")``)."""
        lines = self.source(site.loc.file)
        if not lines or not 0 < site.loc.line <= len(lines):
            return None
        text = "\n".join(_strip_comment(l) for l in lines[site.loc.line - 1:site.loc.line + 9])
        at = text.find("(", site.loc.col - 1)
        name = text[site.loc.col - 1:at].strip() if at >= 0 else ""
        if at < 0 or not (name == (site.callee or "") or (macro and name and (site.callee or "").startswith(name))):
            return None
        wanted = len(site.args) if name == site.callee else None
        args, depth, cur, quote, escaped = [], 0, "", "", False
        for ch in text[at + 1:]:
            if quote:   # inside a string or character literal
                cur += ch
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == quote:
                    quote = ""
                continue
            if ch in "\"'":
                quote = ch
                cur += ch
                continue
            if ch == "," and depth == 0:
                args.append(" ".join(cur.split()))
                cur = ""
                continue
            if ch == ")" and depth == 0:
                args.append(" ".join(cur.split()))
                if wanted is None:
                    return args if all(args) else None
                return args if len(args) == wanted and all(args) else None
            depth += ch in "([{"
            depth -= ch in ")]}"
            cur += ch
        return None

    def written_so(self, site: CallSite, text: str) -> bool:
        """``text`` (an expression the model printed from the AST) is
        written so in the source of the call at ``site``: not the
        expansion of a macro (``NULL`` printed as ``((void *) 0)``)."""
        lines = self.source(site.loc.file)
        if not lines or not 0 < site.loc.line <= len(lines):
            return False
        here = _squash("".join(_strip_comment(l) for l in lines[site.loc.line - 1:site.loc.line + 9]))
        return _squash(text) in here

    def _alias_of(self, fn: Function, name: str, params: Dict[str, int], site: CallSite) -> Optional[str]:
        """A local of a helper declared from a parameter (``FooState *s =
        FOO(dev);`` or ``= opaque;``) as the caller's argument names it."""
        local = fn.locals[name]
        lines = self.source(local.loc.file)
        if not lines or not 0 < local.loc.line <= len(lines):
            return None
        line = lines[local.loc.line - 1]
        m = _ADDR_DECL_RE.match(line)
        if m and m.group(1) == name:
            # VGACommonState *s = &d->vga;
            if m.group(2) not in params or params[m.group(2)] >= len(site.args):
                return None
            return f"&({(site.args[params[m.group(2)]].text or '').strip()})->{m.group(3)}"
        m = _ANY_DECL_RE.match(line)
        if not m or m.group(2) != name:
            return None
        init = m.group(3).strip()
        if _IDENT_ONLY_RE.match(init):
            return None   # ``= opaque;``: an untyped pointer, the type is not in the text
        # FOO(dev), DO_UPCAST(T, qdev, dev), container_of(dev, T, f): the
        # initialiser with the parameter it names replaced by the argument
        used = [p for p in params if re.search(rf"(?<![\w>.]){p}\b", init)]
        if len(used) != 1 or params[used[0]] >= len(site.args):
            return None
        arg = (site.args[params[used[0]]].text or "").strip()
        return "(" + re.sub(rf"(?<![\w>.]){used[0]}\b", lambda _: arg, init) + ")"

    def cast_from(self, typ: str, param) -> str:
        """The expression that gives a ``typ`` from the hook's parameter
        ``param``: the QOM cast (``FOO(dev)``), else the tree's own
        ``DO_UPCAST(T, field, x)`` when x there has the parameter's type."""
        try:
            return f"{self.cast_macro(typ)}({param.name})"
        except NoFix:
            upcast = self.upcast(typ, _norm_type(param.type))
            if upcast is None:
                raise
            return upcast.format(param.name)

    def upcast(self, typ: str, from_type: str) -> Optional[str]:
        base = typ.rstrip("* ").strip()
        counts: Counter = Counter()
        for fn in self.program.functions.values():
            for local in fn.locals.values():
                if _norm_type(local.type) != typ:
                    continue
                lines = self.source(local.loc.file)
                if not lines or not 0 < local.loc.line <= len(lines):
                    continue
                m = re.match(rf"^\s*{re.escape(base)}\s*\*\s*\w+\s*=\s*DO_UPCAST\(\s*{re.escape(base)}\s*,"
                             rf"\s*(\w+)\s*,\s*(\w+)\s*\)\s*;", lines[local.loc.line - 1])
                if m and self.var_type(fn, m.group(2)) == from_type:
                    counts[m.group(1)] += 1
        if not counts:
            return None
        return f"DO_UPCAST({base}, {counts.most_common(1)[0][0]}, {{}})"

    def cast_macro(self, typ: str) -> str:
        """The QOM cast to ``typ`` the tree uses in declarations like
        ``FooState *s = FOO(dev);``."""
        base = typ.rstrip("* ").strip()
        if base == "Object":
            return "OBJECT"
        if not hasattr(self, "_casts"):
            self._casts: Dict[str, Optional[str]] = {}
        if base in self._casts:
            got = self._casts[base]
        else:
            got = None
            counts: Counter = Counter()
            for fn in self.program.functions.values():
                for local in fn.locals.values():
                    if local.type.replace(" ", "").rstrip("*") != base.replace(" ", "") or local.cleanup:
                        continue
                    lines = self.source(local.loc.file)
                    if not lines or not 0 < local.loc.line <= len(lines):
                        continue
                    m = _CAST_DECL_RE.match(lines[local.loc.line - 1])
                    if m and m.group(1) == base and m.group(3).isupper():
                        counts[m.group(3)] += 1
            got = counts.most_common(1)[0][0] if counts else None
            self._casts[base] = got
        if got is None:
            raise NoFix(f"no declaration 'FooState *s = FOO(obj);' shows the cast to {base}")
        return got

    def place(self, text: str, src: Function, dst: Function, ops: List) -> str:
        """``text``, an expression of ``src``, as ``dst`` names it: each
        variable of ``src`` becomes ``dst``'s variable of the same type,
        declared (``FooState *s = FOO(dev);``) when ``dst`` has none."""
        if dst is src or (not isinstance(dst, _Pending) and (dst.file, dst.name) == (src.file, src.name)):
            return text
        text = self._unalias(text, src)
        extra = self._extra.setdefault((id(ops), dst.name), {})
        out, pos = [], 0
        for m in _IDENT_RE.finditer(text):
            if m.group(1) or m.group(3):
                continue
            name = m.group(2)
            typ = self.var_type(src, name)
            dst_names = {p.name for p in dst.params} | set(dst.locals) | set(extra)
            if typ is None:
                if name in dst_names:
                    raise NoFix(f"'{name}' means something else in {dst.name}()")
                continue
            if self._names_device(src, name):
                # the device itself: any variable of dst that is the device, with that type
                have = [p.name for p in dst.params[:1] if _norm_type(p.type) == typ] + \
                       [n for n, l in dst.locals.items() if _norm_type(l.type) == typ and not l.cleanup
                        and self._names_device(dst, n)] + \
                       [n for n, t in extra.items() if t == typ]
            else:
                # another object (a child device, a bus): only a variable of
                # dst declared the same way names it
                init = self._init_of(src, name)
                if init is None or name not in dst.locals or self._init_of(dst, name) != init:
                    raise NoFix(f"'{name}' in {src.name}() names an object other than the device, "
                                f"which {dst.name}() cannot name")
                have = [name]
            if not have:
                if name in dst_names or not dst.params or not typ.endswith("*"):
                    raise NoFix(f"{dst.name}() has no {typ.rstrip(' *')} variable to name it with")
                decl = f"{INDENT}{typ.rstrip(' *')} *{name} = {self.cast_from(typ, dst.params[0])};\n"
                if isinstance(dst, _Pending):
                    dst.decls.append(decl)
                    dst.device_vars.add(name)
                else:
                    brace = self.body_start(dst)
                    lines = self.lines(dst.loc.file)
                    after = lines[brace].strip() if brace < len(lines) else ""
                    ops.append(Insert(dst.loc.file, brace + 1, decl + ("" if after == "" else "\n"), (-1,)))
                extra[name] = typ
                have = [name]
            out.append(text[pos:m.start(2)])
            out.append(have[0])
            pos = m.end(2)
        out.append(text[pos:])
        return "".join(out)

    def _init_of(self, fn: Function, name: str) -> Optional[str]:
        """The initialiser of the local ``name`` of ``fn`` (whitespace
        removed), None when it is not declared with one."""
        local = fn.locals.get(name)
        if local is None:
            return None
        lines = self.source(local.loc.file)
        if not lines or not 0 < local.loc.line <= len(lines):
            return None
        m = _ANY_DECL_RE.match(lines[local.loc.line - 1])
        return _squash(m.group(3)) if m and m.group(2) == name else None

    def _names_device(self, fn: Function, name: str) -> bool:
        """``name`` is, in ``fn`` (a hook or a helper given the device), the
        device object: its first parameter, or a local cast from it
        (``FooState *s = FOO(dev);``, casts nested or not)."""
        if not fn.params:
            return False
        p0 = fn.params[0].name
        if name == p0:
            return True
        if isinstance(fn, _Pending):
            return name in fn.device_vars
        init = self._init_of(fn, name)
        if init is None:
            return False
        while True:
            # FOO(x), DO_UPCAST(T, field, x), container_of(x, T, field), (T *)x
            m = re.fullmatch(r"\(?([A-Z_][A-Z0-9_]*)\((.*)\)\)?", init)
            if m and m.group(1) == "DO_UPCAST":
                init = m.group(2).split(",", 2)[-1]
                continue
            if m:
                init = m.group(2)
                continue
            m = re.fullmatch(r"container_of\((.*?),\w+,\w+\)", init) or re.fullmatch(r"\(\w+\*\)(.*)", init)
            if m:
                init = m.group(1)
                continue
            init = init.strip("()")
            if init == p0:
                return True
            # a local that is itself the device (vdev = VIRTIO_DEVICE(dev); s = container_of(vdev, ...))
            return init != name and init in fn.locals and self._names_device(fn, init)

    def _unalias(self, text: str, fn: Function) -> str:
        """Variables of ``fn`` that only name a member of another
        (``VGACommonState *s = &d->vga;``) replaced by that member."""
        for name, local in fn.locals.items():
            lines = self.source(local.loc.file)
            if not lines or not 0 < local.loc.line <= len(lines):
                continue
            m = _ADDR_DECL_RE.match(lines[local.loc.line - 1])
            if m and m.group(1) == name and re.search(rf"\b{name}\b", text):
                text = _simplify(re.sub(rf"(?<![\w>.]){name}\b", f"(&{m.group(2)}->{m.group(3)})", text),
                                 fn, self)
        return text

    def resource_in(self, dev: DeviceType, fn: Function, op: Op, ops: List) -> str:
        """The resource of ``op`` as ``fn`` names it: the acquiring text,
        composed up to the hook and placed in ``fn``; else built from the
        access path."""
        assert op.path is not None
        if op.path.root.startswith("local:") and not op.path.steps and op.event.function == (fn.file, fn.name):
            return op.path.root.split(":", 1)[1]   # a local of the function that releases it
        text = self.acquired_text(op)
        if text and not isinstance(fn, _Pending) and op.event.function == (fn.file, fn.name) \
                and self.written_so(op.event.site, text):
            return text   # released in the function that acquires it: as the call names it
        top = self.program.functions.get(op.event.frames[0][0]) if op.event.frames else None
        if text and top is not None:
            composed = self.composed(op.event, text)
            if composed is not None:
                return self.place(composed, top, fn, ops)
        assert op.path is not None
        site = op.event.site
        if site.callee and site.callee.startswith("DEFINE_PROP"):
            # an array property: DEFINE_PROP_ARRAY("name", FooState, n, field, ...) names the state type
            lines = self.lines(site.loc.file)
            m = re.search(r"DEFINE_PROP_\w+\(\s*\"[^\"]*\"\s*,\s*(\w+)\s*,", lines[site.loc.line - 1])
            if m and op.path.root == SELF and op.path.steps and all(o in ("->", ".") for o, _ in op.path.steps):
                typ = f"{m.group(1)} *"
                # the name the tree gives a variable of that type (``n`` for VirtIONet)
                names = Counter(n for f2 in self.program.functions.values() if f2.file == site.loc.file
                                for n, l in f2.locals.items() if _norm_type(l.type) == typ)
                var = names.most_common(1)[0][0] if names else "s"
                holder = Function(name="", loc=site.loc, end_line=0, static=True, params=(Param(var, typ),))
                tail = "".join(("->" if i == 0 else o) + n for i, (o, n) in enumerate(op.path.steps))
                return self.place(var + tail, holder, fn, ops)
        return self.expr_in(dev, fn, op.path, ops)

    # -- the release call ----------------------------------------------------
    def release_shape(self, function: str) -> Optional[Tuple[int, Tuple[int, ...]]]:
        """(number of arguments, indexes of those wrapped in ``OBJECT()``)
        of the tree's calls of ``function``, the most common form."""
        if function in self._release_shapes:
            return self._release_shapes[function]
        counts: Counter = Counter()
        for key in self.program.functions:
            fn = self.program.functions[key]
            for site in fn.calls:
                if site.callee == function:
                    wrapped = tuple(i for i, a in enumerate(site.args) if (a.text or "").startswith("OBJECT("))
                    counts[(len(site.args), wrapped)] += 1
        shape = counts.most_common(1)[0][0] if counts else None
        self._release_shapes[function] = shape
        return shape

    def release_call(self, dev: DeviceType, fn: Function, op: Op, ops: List) -> Tuple[str, str]:
        """(statement, release function) releasing ``op``'s resource in
        ``fn``."""
        fam = self.api.families.get(op.family)
        if fam is None:
            raise NoFix(f"no API family '{op.family}'")
        if op.path is None:
            raise NoFix(f"the handle {op.event.site.callee}() returns is not kept: nothing names it to release it")
        names = fam.fix_releases(op.path)
        cover = self._covering_release(dev, op)
        if cover is not None:
            names = [cover] + [n for n in names if n != cover]
        if not names:
            if fam.release_names():
                raise NoFix(f"{', '.join(n + '()' for n in fam.release_names())} would free a struct "
                            f"the device embeds ({op.path})")
            raise NoFix(f"the API family '{op.family}' has no release call")
        reasons = []
        for name in names:
            call = self.api.lookup(name, op.family, "release")
            if call is None or call.resource < 0:
                continue
            try:
                return self._call_text(dev, fn, op, call, ops), name
            except NoFix as exc:
                reasons.append(str(exc))
        raise NoFix(reasons[0] if reasons else f"no release of '{op.family}' takes the resource as an argument")

    def _covering_release(self, dev: DeviceType, op: Op) -> Optional[str]:
        """A release that undoes ``op`` together with another acquisition
        the device makes of the same object as another family
        (``error_setg(&s->blocker, ...)`` then
        ``migrate_add_blocker(&s->blocker, errp)``: since 8.2
        ``migrate_del_blocker(&s->blocker)`` both unregisters the blocker
        and frees the Error).  The fix of either finding is then that one
        call: an ``error_free()`` alone would leave the blocker list
        pointing at freed memory, and both would free the Error twice."""
        if dev is None or op.path is None:
            return None   # a local of a function, not a device's resource
        key = op.path.key()
        for phase in ("realize", "instance_init"):
            for other in self.facts.device(dev).ops[phase]:
                if other.role != "acquire" or other.family == op.family or other.path is None \
                        or other.path.key() != key:
                    continue
                fam = self.api.families.get(other.family)
                for name in (fam.release_names() if fam is not None else ()):
                    if self.api.lookup(name, op.family, "release") is not None:
                        return name
        return None

    def _sites_of(self, function: str) -> List[Tuple[Function, CallSite]]:
        if not hasattr(self, "_sites"):
            self._sites: Dict[str, List[Tuple[Function, CallSite]]] = {}
            for fn in self.program.functions.values():
                for site in fn.calls:
                    if site.callee:
                        self._sites.setdefault(site.callee, []).append((fn, site))
        return self._sites.get(function, [])

    def arg_map(self, acquire: str, release: str, nargs: int) -> Dict[int, int]:
        """release argument -> acquire argument with the same text, as the
        tree's own pairs show it (``vmstate_register(VMSTATE_IF(dev), -1,
        &vmstate_foo, s)`` is undone by ``vmstate_unregister(VMSTATE_IF(dev),
        &vmstate_foo, s)``): learnt from files that make both calls."""
        key = (acquire, release, nargs)
        if not hasattr(self, "_arg_maps"):
            self._arg_maps: Dict[Tuple[str, str, int], Dict[int, int]] = {}
        if key in self._arg_maps:
            return self._arg_maps[key]
        acq_by_file: Dict[str, List[CallSite]] = {}
        for fn, site in self._sites_of(acquire):
            acq_by_file.setdefault(fn.file, []).append(site)
        votes: Dict[int, Counter] = {}
        for fn, rel in self._sites_of(release):
            if len(rel.args) != nargs:
                continue
            for acq in acq_by_file.get(fn.file, ()):
                texts = [_squash(a.text) for a in acq.args]
                for j, r in enumerate(rel.args):
                    t = _squash(r.text)
                    if t and t in texts:
                        votes.setdefault(j, Counter())[texts.index(t)] += 1
        out = {j: c.most_common(1)[0][0] for j, c in votes.items()}
        if not out:
            # no pair in the analysed files: the prototypes' parameter names
            # (vmstate_register(obj, instance_id, vmsd, opaque) and
            # vmstate_unregister(obj, vmsd, opaque))
            acq_names = self.param_names(acquire)
            rel_names = self.param_names(release)
            if acq_names and rel_names and len(rel_names) == nargs:
                out = {j: acq_names.index(n) for j, n in enumerate(rel_names) if n in acq_names}
        self._arg_maps[key] = out
        return out

    def _prototype_params(self, function: str) -> Optional[List[str]]:
        """The parameters of ``function``'s prototype in the tree's headers,
        each as written (``Object *obj``); None when not found."""
        for header in self.headers:
            lines = self.source(header)
            if not lines:
                continue
            text = "\n".join(lines)
            if function not in text:
                continue
            m = re.search(rf"\b{re.escape(function)}\s*\(([^()]*)\)\s*[;{{]", text)
            if m:
                return [param.strip() for param in m.group(1).split(",")]
        return None

    def param_names(self, function: str) -> Optional[List[str]]:
        """The parameter names of ``function``'s prototype in the tree's
        headers."""
        params = self._prototype_params(function)
        if params is None:
            return None
        names = []
        for param in params:
            idm = re.search(r"(\w+)\s*(\[\s*\w*\s*\])?\s*$", param)
            if not idm:
                return None
            names.append(idm.group(1))
        return names

    def param_types(self, function: str) -> Optional[List[str]]:
        """The parameter types of ``function``'s prototype in the tree's
        headers (``Object *``), None when not found."""
        params = self._prototype_params(function)
        if params is None:
            return None
        out = []
        for param in params:
            idm = re.match(r"^(.*?)(\w+)\s*$", " ".join(param.split()))
            if not idm:
                return None
            out.append(_norm_type(idm.group(1)))
        return out

    def object_arg(self, function: str, index: int, value: str, typ: Optional[str]) -> str:
        """``value`` as argument ``index`` of ``function``: wrapped in
        ``OBJECT()`` when the prototype takes an ``Object *`` and the value
        is of another type (``object_unparent(OBJECT(dev))``)."""
        types = self.param_types(function)
        if types and index < len(types) and types[index] == _norm_type("Object *") \
                and typ is not None and typ != _norm_type("Object *"):
            return f"OBJECT({value})"
        return value

    def arity(self, function: str, family: str) -> Optional[int]:
        """How many arguments ``function`` takes, from its prototype in the
        family's header (include/<header>)."""
        known = self.facts.tables.get("fixes", {}).get("library_arity", {})
        if function in known:
            return int(known[function])
        fam = self.api.families.get(family)
        if fam is None:
            return None
        own = [f"include/{h}" for h in (fam.header,) + tuple(fam.old_headers) if h]
        for header in own + [h for h in self.headers if h not in own]:
            lines = self.source(header)
            if not lines:
                continue
            text = "\n".join(lines)
            if function not in text:
                continue
            m = re.search(rf"\b{re.escape(function)}\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)\s*[;{{]", text)
            if m:
                params = m.group(1).strip()
                if params in ("", "void"):
                    return 0
                depth, commas = 0, 0
                for ch in params:
                    depth += ch == "("
                    depth -= ch == ")"
                    commas += ch == "," and depth == 0
                return commas + 1
        return None

    def _call_text(self, dev: DeviceType, fn: Function, op: Op, call: ApiCall, ops: List) -> str:
        shape = self.release_shape(call.function)
        declared = self.arity(call.function, op.family)
        if shape is not None and declared is not None and shape[0] != declared:
            shape = None
        if shape is None and declared is None:
            raise NoFix(f"neither a prototype in the family's header nor a call in the tree shows "
                        f"how {call.function}() is called")
        nargs = shape[0] if shape else declared
        wrapped = shape[1] if shape else ()
        args: List[Optional[str]] = [None] * nargs
        if call.resource >= nargs:
            raise NoFix(f"the tree never calls {call.function}() with the resource")
        path = op.path
        assert path is not None
        want_address = path.address_of
        res = _unparen(self.resource_in(dev, fn, op, ops))
        here = fn.hook.file if isinstance(fn, _Pending) else fn.loc.file
        m = re.fullmatch(r"&?\s*(\w+)", res)
        if m and here != op.event.site.loc.file and self._file_static(op.event.site.loc.file, m.group(1)):
            raise NoFix(f"{call.function}() needs {res}, which is static in {op.event.site.loc.file} (the file "
                        f"of the acquiring {op.event.site.callee}()): the release belongs in that file's own "
                        f"teardown")
        if "sets-pointer" in call.attrs:
            # migrate_del_blocker(&s->blocker): the release takes the
            # address of the pointer it frees and clears
            res = res if res.startswith("&") else "&" + res
        elif call.resource in wrapped:
            res = f"OBJECT({res})"
        elif shape is None and _IDENT_ONLY_RE.match(res):
            res = self.object_arg(call.function, call.resource, res, self.var_type(fn, res))
        args[call.resource] = res
        if call.container is not None and call.container < nargs:
            if op.container is None:
                raise NoFix("the container it was mapped into is not known")
            acq = self.api.lookup(op.event.site.callee, op.family, "acquire")
            src = self.program.functions.get(op.event.function)
            text = None
            top = self.program.functions.get(op.event.frames[0][0]) if op.event.frames else None
            if acq is not None and acq.container is not None and src is not None and top is not None \
                    and acq.container < len(op.event.site.args):
                composed = self.composed(op.event, op.event.site.args[acq.container].text or "")
                if composed is not None:
                    try:
                        text = self.place(composed, top, fn, ops)
                    except NoFix:
                        text = None
            args[call.container] = text if text is not None else self.container_text(dev, fn, op.container, ops)
        elsewhere: List[Tuple[str, str]] = []
        if any(a is None for a in args):
            # the other arguments: those of the acquiring call that the tree's
            # own pairs pass again to the release
            mapping = self.arg_map(op.event.site.callee or "", call.function, nargs)
            top = self.program.functions.get(op.event.frames[0][0]) if op.event.frames else None
            for j in range(nargs):
                if args[j] is not None or j not in mapping or top is None:
                    continue
                i = mapping[j]
                if i >= len(op.event.site.args):
                    continue
                if op.event.site.args[i].is_null:
                    args[j] = "NULL"
                    continue
                text = op.event.site.args[i].text or ""
                here = fn.hook.file if isinstance(fn, _Pending) else fn.loc.file
                m = re.fullmatch(r"&?\s*(\w+)", text.strip())
                if m and here != op.event.site.loc.file and self._file_static(op.event.site.loc.file, m.group(1)):
                    elsewhere.append((text.strip(), op.event.site.loc.file))
                    continue
                if not self.written_so(op.event.site, text):
                    # a macro (TYPE_FOO, printed as its expansion): the
                    # call's own source text, valid in the file that has it
                    src = self.source_args(op.event.site)
                    where = fn.hook.file if isinstance(fn, _Pending) else fn.loc.file
                    if src is None or i >= len(src) or where != op.event.site.loc.file:
                        continue
                    text = src[i]
                composed = self.composed(op.event, text)
                if composed is not None:
                    args[j] = self.place(composed, top, fn, ops)
        if any(a is None for a in args):
            # a parameter the acquisition has no argument for: the value
            # rules/tables/fixes.toml says undoes it (unregister_savevm(NULL, ...))
            fill = self.facts.tables.get("fixes", {}).get("release_args", {}).get(call.function, {})
            names = self.param_names(call.function) if fill else None
            if names and len(names) == nargs:
                for j in range(nargs):
                    if args[j] is None and names[j] in fill and j not in self.arg_map(
                            op.event.site.callee or "", call.function, nargs):
                        args[j] = str(fill[names[j]])
        if any(a is None for a in args) and elsewhere:
            text, where = elsewhere[0]
            raise NoFix(f"{call.function}() needs {text}, which is static in {where} (the file of the acquiring "
                        f"{op.event.site.callee}()): the release belongs in that file's own teardown")
        if any(a is None for a in args):
            raise NoFix(f"{call.function}() takes arguments beside the resource that lifecheck cannot fill")
        return f"{call.function}({', '.join(a for a in args if a is not None)});"

    def container_text(self, dev: DeviceType, fn: Function, path: AccessPath, ops: List) -> str:
        kind = path.root_kind
        if kind == "call" and not path.steps:
            called = path.root.split(":", 1)[1]
            shape = self.release_shape(called)
            if shape is not None and shape[0] == 0:
                return called + "()"
            raise NoFix(f"the container is the result of {path.root.split(':', 1)[1]}(), whose arguments "
                        f"cannot be named in {fn.name}()")
        if kind == "global" and not path.steps:
            return ("&" if path.address_of else "") + path.root.split(":", 1)[1]
        if path.root == SELF:
            return self.expr_in(dev, fn, path, ops)
        raise NoFix(f"the container {path} cannot be named in {fn.name}()")

    # -- finding the model behind a finding -------------------------------------
    def device(self, f: Finding) -> DeviceType:
        dev = self.program.types.get(f.device)
        if dev is None:
            raise NoFix("not about a device type's state")
        return dev

    def op_of(self, f: Finding, dev: DeviceType, role: str) -> Op:
        device = self.facts.device(dev)
        phases = [f.hook] + [p for p in device.ops if p != f.hook]
        for phase in phases:
            for op in device.ops.get(phase, ()):
                if op.role == role and op.event.site.loc == f.loc and _describe(op) == f.resource:
                    return op
        raise NoFix("the call behind the finding is not in the model any more")

    def event_of(self, f: Finding, dev: DeviceType) -> Event:
        for ev in self.program.events(dev, f.hook):
            if ev.site.loc == f.loc:
                return ev
        raise NoFix("the call behind the finding is not in the model any more")

    # -- hooks -----------------------------------------------------------------
    def acquiring_ref(self, dev: DeviceType, ev: Event, phase: str) -> HookRef:
        """The hook the acquisition is made under: of the type's hooks for
        ``phase`` on the call chain, the deepest (a bus core's realize
        calls the device's own ``init`` hook: that one is the device's)."""
        refs = dev.hooks.get(phase, [])
        chain = [fr[0] for fr in ev.frames] or [ev.function]
        for key in reversed(chain):
            for r in refs:
                if r.function == key and r.function[0] not in self.program.core_files:
                    return r
        top = chain[0]
        for r in refs:
            if r.function == top:
                return r
        if refs:
            return refs[0]
        raise NoFix(f"{dev.name} has no {phase} hook")

    def partner_field(self, bound_by: str, phase: str) -> str:
        cls = bound_by.split(".", 1)[0]
        for key, ph in sorted(self.phase_of.items()):
            if ph == phase and key.startswith(cls + "."):
                return key
        raise NoFix(f"no {phase} hook field is known for {cls}")

    def hook_function(self, dev: DeviceType, acquiring: HookRef, phase: str,
                      ops: List, acquired_in: Optional[FunctionKey] = None) -> Tuple[Function, Optional[NewHook]]:
        """The function of the device's own ``phase`` hook, or a new one
        (with its binding) when the device has none."""
        program = self.program
        if phase == "instance_finalize":
            owner = program.types.get(acquiring.owner or dev.name, dev)
            rec = owner.record
            if rec.instance_finalize:
                key = program._resolve_for(owner, rec.instance_finalize)
                if key is None:
                    raise NoFix(f"{rec.instance_finalize}() could not be parsed")
                return program.functions[key], None
            return self.new_finalize(owner, acquiring), None
        bound = self.partner_field(acquiring.bound_by, phase)
        for r in dev.hooks.get(phase, ()):
            if r.bound_by == bound and (r.owner == acquiring.owner or r.owner == dev.name):
                if r.function[0] in program.core_files:
                    break
                return program.functions[r.function], None
        for r in dev.hooks.get(phase, ()):
            if r.bound_by == bound and r.function[0] not in program.core_files:
                if r.owner != dev.name and acquiring.owner == dev.name \
                        and self._chained_realize(acquiring) is not None:
                    # the device's own realize chains the parent's: so does the new unrealize
                    return self.new_class_hook(dev, acquiring, bound), None
                if acquired_in is not None and r.function[0] == acquired_in[0] \
                        and not (acquiring.owner == dev.name and acquired_in == acquiring.function):
                    # a base type's helper acquires it, the base's hook releases it
                    return program.functions[r.function], None
                raise NoFix(f"{dev.name}'s {bound} hook {r.function[1]}() is bound by {r.owner}, "
                            f"not by the type that acquires it")
        return self.new_class_hook(dev, acquiring, bound), None

    def new_class_hook(self, dev: DeviceType, acquiring: HookRef, bound: str) -> Function:
        """A new ``void foo_exit(PCIDevice *dev)``-style hook bound beside
        the realize binding; returned as a stand-in Function (no calls)."""
        program = self.program
        realize = program.functions.get(acquiring.function)
        if realize is None or not realize.params:
            raise NoFix("the realize hook cannot be read")
        field = bound.split(".", 1)[1]
        rfield = acquiring.bound_by.split(".", 1)[1]
        if realize.file != acquiring.loc.file:
            raise NoFix("the realize hook is bound in another file than it is defined")
        lines = self.lines(acquiring.loc.file)
        bline = lines[acquiring.loc.line - 1]
        m = re.match(rf"^(\s*)(\w+)\s*(->|\.)\s*{re.escape(rfield)}\s*=\s*{re.escape(realize.name)}\s*;\s*$", bline)
        chained = self._chained_realize(acquiring) if not m else None
        if not m and chained is None:
            raise NoFix(f"the {rfield} hook is not bound by a plain assignment "
                        "(device_class_set_parent_realize() or a table)")
        if realize.name.endswith(rfield):
            name = realize.name[:-len(rfield)] + field
        elif f"_{rfield}" in realize.name:   # qxl_realize_primary -> qxl_exit_primary
            head, _, tail = realize.name.rpartition(f"_{rfield}")
            name = f"{head}_{field}{tail}"
        else:
            name = f"{realize.name}_{field}"
        if program.resolve(realize.file, name) is not None or name in self._names_in(realize.file):
            raise NoFix(f"a function {name}() exists already")
        p0 = realize.params[0]
        sig = f"static void {name}({_decl(p0.type, p0.name)})"
        inherited = any(r.owner != dev.name for r in dev.hooks.get("unrealize", ()))
        if chained is not None and not inherited:
            # nothing to chain to (parent_unrealize would be NULL): a plain binding
            binding = f"{chained[0]}{chained[1]}->{field} = {name};\n"
            hook = NewHook(realize.file, name, self.closing_brace(realize), sig, "", (), acquiring.loc.line + 1,
                           binding, "unrealize")
            return _Pending(hook, realize)
        if chained is not None:
            # device_class_set_parent_realize(dc, foo_realize, &k->parent_realize):
            # device_class_set_parent_unrealize(dc, foo_unrealize, &k->parent_unrealize),
            # and the new hook calls the parent's last, as realize calls it
            ind, dc, k, head = chained
            binding = f"{ind}device_class_set_parent_unrealize({dc}, {name}, &{k}->parent_unrealize);\n"
            hook = NewHook(realize.file, name, self.closing_brace(realize), sig, "", (), acquiring.loc.line + 1,
                           binding, "unrealize", head=head, tail=f"{INDENT}{k}->parent_unrealize({p0.name});\n")
            return _Pending(hook, realize)
        binding = f"{m.group(1)}{m.group(2)}{m.group(3)}{field} = {name};\n"
        hook = NewHook(realize.file, name, self.closing_brace(realize), sig, "", (), acquiring.loc.line + 1, binding,
                       "unrealize")
        return _Pending(hook, realize)

    def _chained_realize(self, acquiring: HookRef) -> Optional[Tuple[str, str, str, str]]:
        """When the realize hook is bound by
        ``device_class_set_parent_realize(dc, foo_realize, &k->parent_realize)``
        and the class struct of ``k`` also has a ``parent_unrealize``, and
        realize names ``k`` by a declaration (``FooClass *k =
        FOO_GET_CLASS(dev);``): (indentation, dc, k, that declaration
        re-based on realize's first parameter), else None."""
        realize = self.program.functions.get(acquiring.function)
        if realize is None or not realize.params or acquiring.bound_by != "DeviceClass.realize" \
                or realize.file != acquiring.loc.file:
            return None
        lines = self.lines(acquiring.loc.file)
        m = re.match(rf"^(\s*)device_class_set_parent_realize\(\s*(\w+)\s*,\s*{re.escape(realize.name)}\s*,"
                     rf"\s*&\s*(\w+)\s*->\s*parent_realize\s*\)\s*;\s*$", lines[acquiring.loc.line - 1])
        if not m:
            return None
        cls_init = next((fn for fn in self.program.functions.values() if fn.file == acquiring.loc.file
                         and fn.loc is not None and fn.loc.line <= acquiring.loc.line <= fn.end_line), None)
        typ = self.var_type(cls_init, m.group(3)) if cls_init is not None else None
        body = self.struct_body(typ.rstrip(" *"), acquiring.loc.file) if typ else None
        if body is None or not re.search(r"\bparent_unrealize\b", body):
            return None
        p0 = realize.params[0].name
        for line in lines[realize.loc.line - 1:realize.end_line]:
            d = _CAST_DECL_RE.match(line)
            if d and _norm_type(d.group(1) + " *") == typ and d.group(4) == p0 and d.group(2) == m.group(3):
                return m.group(1), m.group(2), m.group(3), line.rstrip() + "\n"
        return None

    def new_finalize(self, owner: DeviceType, acquiring: HookRef) -> Function:
        program = self.program
        rec = owner.record
        if rec.registered_by:
            raise NoFix(f"{owner.name}'s TypeInfo is built by {rec.registered_by}")
        file = owner.file
        lines = self.lines(file)
        anchor_fn = None
        realize = program.functions.get(acquiring.function)
        for cand in (rec.instance_init, realize.name if realize is not None else None, rec.class_init):
            key = program.resolve(file, cand) if cand else None
            if key is not None and key[0] == file:
                fn = program.functions[key]
                if fn.end_line < rec.loc.line:
                    anchor_fn = fn
                    break
        if anchor_fn is None:
            raise NoFix("no function before the TypeInfo to place instance_finalize after")
        # named after the type's own functions: foo_init / foo_class_init -> foo_finalize
        base = None
        for cand in (rec.instance_init, rec.class_init, anchor_fn.name):
            for suffix in ("_instance_init", "_class_init", "_initfn", "_init", "_realize", "_unrealize",
                           "_exit"):
                if cand and cand.endswith(suffix):
                    base = cand[:-len(suffix)]
                    break
            if base:
                break
        base = base or anchor_fn.name
        name = f"{base}_finalize"
        if program.resolve(file, name) is not None or name in self._names_in(file):
            raise NoFix(f"a function {name}() exists already")
        # the TypeInfo's lines: from its line to the closing "};"
        at = None
        end = None
        for i in range(rec.loc.line, min(len(lines), rec.loc.line + 40) + 1):
            t = lines[i - 1]
            if re.match(r"^\s*\.(instance_init|instance_size|parent)\s*=", t):
                if at is None or "instance_init" in t or ("instance_size" in t and "instance_init" not in lines[at - 1]):
                    at = i
            if t.strip().startswith("}"):
                end = i
                break
        if at is None or end is None:
            raise NoFix(f"cannot find the fields of {owner.name}'s TypeInfo")
        ind = self.indent_of(file, at)
        # the field after which to bind: keep going to the end of a multi-line value
        while not lines[at - 1].rstrip().endswith(",") and at < end - 1:
            at += 1
        binding = f"{ind}.instance_finalize = {name},\n"
        sig = f"static void {name}(Object *obj)"
        hook = NewHook(file, name, self.closing_brace(anchor_fn), sig, "", (), at + 1, binding, "instance_finalize")
        return _Pending(hook, None)

    def _names_in(self, file: str) -> set:
        text = "\n".join(self.lines(file))
        return set(re.findall(r"\b(\w+)\s*\(", text))

    def place_in(self, fn: Function, family: str, statement: str, ops: List, order: Tuple = ()) -> None:
        """Insert ``statement`` in the existing function ``fn``: after its
        last top-level release of the same family, before its first
        top-level release that frees memory (unmap and unregister before
        freeing), else at the end (before a final ``return;``)."""
        if isinstance(fn, _Pending):
            fn.body.append(wrap(INDENT, statement))
            return
        lines = self.lines(fn.loc.file)
        frees = self.api.with_trait("heap")
        after = None
        before = None
        new_frees = family in frees
        for site in sorted(fn.calls, key=lambda s: (s.loc.line, s.loc.col)):
            if site.loc.col != len(INDENT) + 1 or not site.discarded:
                continue
            fams = {fam for fam, call in self.api.by_function.get(site.callee or "", ()) if call.role == "release"}
            if not fams:
                continue
            try:
                start, end = self.whole_statement(site)
            except NoFix:
                continue
            if family in fams:
                after = end
            elif fams & frees and not new_frees and before is None:
                before = start
        if after is not None and (before is None or after < before):
            line = after + 1
        elif before is not None:
            line = before
        else:
            line = self.closing_brace(fn)
            if line > 1 and lines[line - 2].strip() == "return;":
                line -= 1
        ops.append(Insert(fn.loc.file, line, wrap(INDENT, statement), order))

    # -- the fix patterns --------------------------------------------------------
    def _beside(self, dev: DeviceType, fn: Function, op: Op, phase: str) -> Optional[Tuple[str, str, int, str]]:
        """When ``fn`` already disarms or releases the same resource
        (``timer_del(st->buft)`` in a loop over the streams), the release
        goes right after that call, with its expression and indentation:
        (statement, release, line, indentation)."""
        key = op.key
        if key is None:
            return None
        fam = self.api.families.get(op.family)
        if fam is None:
            return None
        for ev in self.program.events(dev, phase):
            if ev.function != (fn.file, fn.name) or ev.site.loc.file != fn.file:
                continue
            for other in self.api.effects(ev):
                if other.family != op.family or other.key != key or other.role not in ("disarm", "release"):
                    continue
                call = self.api.lookup(ev.site.callee, op.family, other.role)
                if call is None or not 0 <= call.resource < len(ev.site.args):
                    continue
                names = fam.fix_releases(op.path)
                if not names:
                    return None
                rel = self.api.lookup(names[0], op.family, "release")
                if rel is None or rel.resource < 0 or rel.container is not None:
                    return None
                shape = self.release_shape(names[0])
                if (shape[0] if shape else self.arity(names[0], op.family)) != 1:
                    return None
                try:
                    start, end = self.whole_statement(ev.site)
                except NoFix:
                    return None
                if not self.written_so(ev.site, ev.site.args[call.resource].text or ""):
                    return None
                return (f"{names[0]}({ev.site.args[call.resource].text});", names[0], end + 1,
                        self.indent_of(fn.file, start))
        return None

    def _missing_release(self, f: Finding, also: Sequence[str] = ()) -> List[Candidate]:
        """Release in the device's hook; ``also``: other device types that
        reach the same acquisition (a helper shared by two devices) and
        need the release in their own hooks too."""
        out = self._missing_release_of(f, f.device)
        if not also:
            return out
        extra: List = []
        for name in also:
            if name == f.device:
                continue
            extra.extend(self._missing_release_of(dataclasses.replace(f, device=name), name)[0].fix.ops)
        merged = []
        for c in out:
            fix = c.fix
            merged.append(Candidate(Fix(fix.fingerprint, fix.description + f" (and in the hooks of "
                                        f"{', '.join(n for n in also if n != f.device)})", fix.subject,
                                        fix.reason, fix.ops + tuple(extra)), c.how + " (several devices)"))
        return merged

    def _missing_release_of(self, f: Finding, name: str) -> List[Candidate]:
        dev = self.program.types.get(name)
        if dev is None:
            raise NoFix("not about a device type's state")
        try:
            op = self.op_of(f, dev, "acquire")
        except NoFix:
            # a mapping kept by a family the leak rules do not track
            op = self._mapping_op(self.event_of(f, dev))
        ev = op.event
        if op.path is not None and op.path.root.startswith("local:"):
            return [self._embed_local(f, dev, op)]
        if op.path is None and ev.site.discarded and f.hook in ("realize", "instance_init"):
            return [self._keep_handle(f, dev, op)]
        acquiring_phase = f.hook if f.hook in ("realize", "instance_init") else "realize"
        ref = None
        if f.hook == "runtime":
            # acquired by a hook the realized device runs (a bus's command
            # hook): that hook's class binds the unrealize to release it in
            chain = {fr[0] for fr in ev.frames}
            ref = next((r for r in dev.hooks.get("runtime", ()) if r.function in chain
                        and r.function[0] not in self.program.core_files), None)
        if ref is None:
            ref = self.acquiring_ref(dev, ev, acquiring_phase)
        phases = [p for p in (f.expected_phases or ("unrealize",)) if p in ("unrealize", "instance_finalize")]
        if acquiring_phase == "instance_init":
            phases = ["instance_finalize"]
        elif (ev.site.callee or "").startswith("DEFINE_PROP") and "instance_finalize" in phases:
            # set before realize, for the object's life: freed with the object
            phases = ["instance_finalize"] + [p for p in phases if p != "instance_finalize"]
        refs = [ref]
        if ref.phase == "runtime":
            # a generic runtime hook (DeviceClass reset): the realize hook's
            # class may be the one with the device's own unrealize
            try:
                refs.append(self.acquiring_ref(dev, ev, "realize"))
            except NoFix:
                pass
        out: List[Candidate] = []
        reasons: List[str] = []
        for phase in phases:
            for r in refs:
                try:
                    out.append(self._release_in(f, dev, r, op, phase))
                    break
                except NoFix as exc:
                    reasons.append(str(exc))
        if not out:
            raise NoFix(reasons[0] if reasons else "no phase to release it in")
        return out

    # -- a handle the device drops: kept in the device state ---------------------
    def _keep_handle(self, f: Finding, dev: DeviceType, op: Op) -> Candidate:
        """``qemu_add_vm_change_state_handler(cb, s);`` whose result is
        dropped: the handle becomes a member of the device state (its type
        the prototype's return type, its name the one the tree's other
        devices store this call's result in), the call stores into it, and
        the family's release of the handle goes to the hook of the phase
        that must release it (created when missing)."""
        ev = op.event
        site = ev.site
        callee = site.callee or ""
        fn = self.program.functions.get(ev.function)
        fam = self.api.families.get(op.family)
        if fn is None or fam is None:
            raise NoFix(f"the handle {callee}() returns is not kept: nothing names it to release it")
        rtype = self._return_type(callee)
        if rtype is None or not rtype.endswith("*"):
            raise NoFix(f"the handle {callee}() returns is not kept, and its type is not declared in this "
                        f"tree's headers")
        names: Counter = Counter()
        given = self.facts.tables.get("fixes", {}).get("handle_members", {}).get(callee)
        if given:
            names[given] = 1
        for other in ([] if given else self.program.functions.values()):
            for a in other.assignments:
                if a.rhs.callee == callee:
                    m = re.search(r"(?:->|\.)\s*(\w+)\s*$", a.lhs.text or "")
                    if m:
                        names[m.group(1)] += 1
        if not names:
            raise NoFix(f"the handle {callee}() returns is not kept, and no code of the tree keeps one in a "
                        f"device's state to name the member after")
        member = names.most_common(1)[0][0]
        release = None
        for rel in fam.release_names():
            call = self.api.lookup(rel, op.family, "release")
            shape = self.release_shape(rel)
            if call is not None and call.resource == 0 and call.container is None \
                    and (shape[0] if shape else self.arity(rel, op.family)) == 1:
                release = rel
                break
        if release is None:
            raise NoFix(f"no release of {op.family} takes the handle alone")
        # the device's state: a variable of the function that names the device, its struct found
        args = self.source_args(site) or []
        cands = [m.group(1) for a in args for m in [re.fullmatch(r"(?:[A-Z_][A-Z0-9_]*\(\s*)?(\w+)\s*\)?", a)] if m]
        cands += [p.name for p in fn.params] + list(fn.locals)
        holder = None
        for var in cands:
            t = self.var_type(fn, var)
            if not t or not t.endswith("*") or t.startswith(("void", "Object ")) or not self._names_device(fn, var):
                continue
            tag = t.rstrip(" *").replace("struct ", "").strip()
            for where in [fn.loc.file] + self._local_headers(fn.loc.file) + self._headers_naming(tag):
                rng = self._struct_lines(where, t.rstrip(" *"))
                if rng is not None:
                    holder = (var, where, rng, tag)
                    break
            if holder is not None:
                break
        if holder is None:
            raise NoFix("the definition of the device's state struct is not found")
        var, sfile, (sfirst, slast), tag = holder
        slines = self.lines(sfile)
        if re.search(rf"\b{re.escape(member)}\b", "\n".join(slines[sfirst:slast - 1])):
            raise NoFix(f"the device state {tag} has a member '{member}' already")
        ops: List = []
        base = rtype.rstrip(" *")
        ops.append(self._member_insert(sfile, (sfirst, slast), rf"{re.escape(base)}\s*\*\s*\w+",
                                       f"{base} *{member};"))
        # the call stores its result
        file = fn.loc.file
        start, end = self.whole_statement(site)
        lines = self.lines(file)
        text = " ".join(_strip_comment(l).strip() for l in lines[start - 1:end])
        col = site.loc.col - 1
        if not text.startswith(callee + "(") or site.loc.line != start \
                or not lines[start - 1][col:].startswith(callee):
            raise NoFix(f"the call of {callee}() is not a statement of its own")
        prefix = f"{var}->{member} = "
        first = lines[start - 1][:col] + prefix + lines[start - 1][col:]
        if start == end and len(first) > MAX_COLUMNS and _strip_comment(first) == first:
            new_text = wrap(self.indent_of(file, start), prefix + text)
        else:
            # continuation lines keep their alignment after the parenthesis
            new_text = "".join([first + "\n"] + [(" " * len(prefix) + l if l.strip() else l) + "\n"
                                                   for l in lines[start:end]])
        ops.append(Delete(file, start, end))
        ops.append(Insert(file, start, new_text, (0,)))
        # the release in the hook of every device type of the file that makes the call
        phase = next((p for p in (f.expected_phases or ("unrealize",)) if p in ("unrealize", "instance_finalize")),
                     "unrealize")
        if f.hook == "instance_init":
            phase = "instance_finalize"
        types = [dev] + [t for n, t in sorted(self.program.types.items()) if n != dev.name and t.file == dev.file
                         and any(e.site.loc == site.loc for e in self.program.events(t, f.hook))]
        done: List[str] = []
        wheres: List[str] = []
        for t in types:
            tev = next(e for e in self.program.events(t, f.hook) if e.site.loc == site.loc)
            hook_fn, _ = self.hook_function(t, self.acquiring_ref(t, tev, f.hook), phase, ops, ev.function)
            if hook_fn.name in done:
                continue
            done.append(hook_fn.name)
            stmt = f"{release}({self.place(f'{var}->{member}', fn, hook_fn, ops)});"
            if isinstance(hook_fn, _Pending):
                hook_fn.body.append(wrap(INDENT, stmt))
                hook = hook_fn.hook
                ops.append(dataclasses.replace(hook, decl="".join(hook_fn.decls), body=tuple(hook_fn.body),
                                               phase=phase))
                wheres.append(f"a new {phase} hook {hook.name}()")
            else:
                self.place_in(hook_fn, op.family, stmt, ops)
                wheres.append(f"{hook_fn.name}() ({phase})")
        where = " and ".join(wheres)
        desc = f"keep the handle of {callee}() in {var}->{member} and add {stmt} to {where}"
        out_file = hook_fn.hook.file if isinstance(hook_fn, _Pending) else hook_fn.loc.file
        subject = f"{_subject_dir(out_file)}: remove the {callee.replace('qemu_add_', '').replace('_', ' ')} " \
                  f"on {'unrealize' if phase == 'unrealize' else 'finalize'}"
        reason = (f"{fn.name}() ({f.hook} of {f.device}) registers with {callee}() and drops the handle it "
                  f"returns, so nothing can remove the registration: after unplug it still points at the "
                  f"freed device ({f.loc.file}:{f.loc.line}).\n\nKeep the handle in a new member "
                  f"{tag}.{member} (named as the tree's other devices name it) and remove the registration "
                  f"with {release}() in {where}."
                  f"\n\nFound by lifecheck, rule {f.rule} ('lifecheck explain {f.rule}').")
        return Candidate(Fix(f.fingerprint, desc, subject, reason, tuple(ops)),
                         f"keep the handle, release in {phase}" + (" (new hook)" if isinstance(hook_fn, _Pending) else ""))

    def _file_static(self, file: str, name: str) -> bool:
        """``name`` is defined ``static`` at file scope in ``file``."""
        return any(re.match(rf"^static\b[^(=;]*\b{re.escape(name)}\s*(=|;|\[)", l) for l in self.lines(file))

    def _local_headers(self, file: str) -> List[str]:
        """The headers ``file`` includes from its own folder (``#include "qxl.h"``)."""
        folder = file.rsplit("/", 1)[0] if "/" in file else ""
        out = []
        for line in self.lines(file):
            m = re.match(r'^\s*#\s*include\s*"([\w.-]+\.h)"', line)
            rel = f"{folder}/{m.group(1)}" if m and folder else (m.group(1) if m else None)
            if rel and self.source(rel):
                out.append(rel)
        return out

    def _return_type(self, function: str) -> Optional[str]:
        """The return type of ``function``'s prototype in the tree's headers."""
        for rel in self.headers:
            lines = self.source(rel)
            if not lines:
                continue
            text = "\n".join(lines)
            if function not in text:
                continue
            m = re.search(rf"^\s*((?:const\s+)?\w+(?:\s+\w+)?\s*\**)\s*\b{re.escape(function)}\s*\(", text, re.M)
            if m and not m.group(1).strip().startswith(("return", "static", "#")):
                return _norm_type(m.group(1))
        return None

    # -- an object only a local keeps: embedded in the device state ----------------
    def _embed_local(self, f: Finding, dev: DeviceType, op: Op) -> Candidate:
        """``MemoryRegion *mr = g_new(MemoryRegion, 1);`` initialised with
        the device as owner and kept only in the local: the object becomes
        a field of the device state (``MemoryRegion mr;``, the struct in
        the same file) and the function uses ``&s->mr``; the region then
        goes with the device, as docs/devel/memory.rst asks."""
        assert op.path is not None
        ev = op.event
        fn = self.program.functions.get(ev.function)
        if fn is None:
            raise NoFix(f"{ev.function[1]}() is not in the model")
        name = op.path.root.split(":", 1)[1]
        typ = self.var_type(fn, name)
        local = fn.locals.get(name)
        if local is None or not typ or not typ.endswith("*") or op.path.steps:
            raise NoFix(f"'{name}' is not a pointer local of {fn.name}()")
        args = [(a.text or "").replace(" ", "") for a in ev.site.args]
        if len(args) == 2 and args[0] != "1":
            raise NoFix(f"{ev.site.callee}() allocates an array of them: each needs a field")
        file = fn.loc.file
        lines = self.lines(file)
        brace, close = self.body_start(fn), self.closing_brace(fn)
        stores = [a for a in fn.assignments if re.fullmatch(re.escape(name), (a.lhs.text or "").strip())]
        if len(stores) > 1 or any(a.rhs.callee != ev.site.callee for a in stores):
            raise NoFix(f"'{name}' is assigned more than once in {fn.name}()")
        if self.indent_of(file, ev.site.loc.line) != INDENT or self.indent_of(file, local.loc.line) != INDENT:
            raise NoFix("the allocation is not at the top level of the function (a loop may repeat it)")
        # the device state: a variable of the function that is the device, its struct in this file
        base = typ.rstrip(" *")
        holder = None
        # the owner the region is initialised with (OBJECT(s)): its state holds the member
        init_loc = next((r.loc for r in f.related if r.role == "acquire"), None)
        init = next((c for c in fn.calls if init_loc is not None and c.loc == init_loc), None)
        owner = None
        if init is not None:
            src = self.source_args(init) or [a.text or "" for a in init.args]
            for a in src[1:2]:
                m = re.fullmatch(r"(?:OBJECT\(\s*)?(\w+)\s*\)?", a.strip())
                owner = m.group(1) if m and self._names_device(fn, m.group(1)) else None
        if owner is None:
            raise NoFix("the region's owner is not a variable of the function that names the device")
        for cand in [owner]:
            t = self.var_type(fn, cand)
            if t and t.endswith("*") and self._names_device(fn, cand) and not t.startswith(("void", "Object ")):
                for where in [file] + self._headers_naming(t.rstrip(" *").replace("struct ", "").strip()):
                    rng = self._struct_lines(where, t.rstrip(" *"))
                    if rng is not None:
                        holder = (cand, where, rng)
                        break
                if holder is not None:
                    break
        if holder is None:
            raise NoFix("the definition of the device's state struct is not found")
        var, sfile, (sfirst, slast) = holder
        slines = self.lines(sfile)
        body = "\n".join(slines[sfirst - 1:slast])
        if re.search(rf"\b{re.escape(name)}\b", body):
            raise NoFix(f"the device state has a member '{name}' already")
        ops: List = []
        ops.append(self._member_insert(sfile, (sfirst, slast), rf"{re.escape(base)}\s+\w+", f"{base} {name};"))
        # the declaration and the allocation go; every use takes the member
        decl_line = local.loc.line
        alloc_start, alloc_end = ev.site.loc.line, self.statement_end(file, ev.site.loc.line)
        edited = set()
        decl = lines[decl_line - 1]
        if decl_line == alloc_start:
            if not re.match(rf"^\s*{re.escape(base)}\s*\*\s*{re.escape(name)}\s*=", decl):
                raise NoFix("the declaration declares other variables too")
            ops.append(Delete(file, alloc_start, alloc_end))
        else:
            m = re.match(rf"^(\s*{re.escape(base)}\s*)(.*);\s*$", _strip_comment(decl))
            if not m:
                raise NoFix(f"the declaration of '{name}' is not a plain one")
            names = [re.sub(r"\s*=\s*NULL$", "", d.strip()) for d in m.group(2).split(",")]
            if any("=" in d for d in names):
                raise NoFix(f"the declaration of '{name}' has initialisers")
            rest = [d for d in names if d.lstrip("*").strip() != name]
            ops.append(Delete(file, decl_line, decl_line))
            if rest:
                ops.append(Insert(file, decl_line, f"{m.group(1).rstrip()} {', '.join(rest)};\n", (0,)))
            elif lines[decl_line].strip() == "" and lines[decl_line - 2].strip().endswith("{") \
                    and lines[decl_line - 2].strip() == "{":
                ops.append(Delete(file, decl_line + 1, decl_line + 1))
                edited.add(decl_line + 1)
            ops.append(Delete(file, alloc_start, alloc_end))
        edited |= {decl_line} | set(range(alloc_start, alloc_end + 1))
        for i in range(brace + 1, close):
            if i in edited:
                continue
            text = lines[i - 1]
            parts = re.split(r'("(?:\\.|[^"\\])*")', text)   # string literals are left alone
            for k in range(0, len(parts), 2):
                parts[k] = re.sub(rf"(?<![\w>.]){re.escape(name)}\s*->", f"{var}->{name}.", parts[k])
                parts[k] = re.sub(rf"(?<![\w>.&]){re.escape(name)}\b(?!\s*\()", f"&{var}->{name}", parts[k])
            new = "".join(parts)
            if new != text:
                if re.search(rf"&\s*&|\*\s*&{var}->{name}\b|{re.escape(name)}\s*=[^=]", new):
                    raise NoFix(f"'{name}' is used in a way the member cannot stand for")
                ops.append(Delete(file, i, i))
                ops.append(Insert(file, i, new + "\n", (0,)))
        desc = f"make {name} a member {var}->{name} of the device state instead of allocating it in {fn.name}()"
        subject = f"{_subject_dir(file)}: embed the {name} region in the device state"
        reason = (f"{fn.name}() allocates {name} with {ev.site.callee}() and initialises it with the device "
                  f"as owner, but only the local keeps it: QOM finalizes the region with the device and "
                  f"never frees this memory, so every created and destroyed device leaks it "
                  f"({f.loc.file}:{f.loc.line}, device type {f.device}).\n\nEmbed the region in the "
                  f"device state, where it goes with the device (docs/devel/memory.rst, "
                  f"\"Region lifecycle\").\n\nFound by lifecheck, rule {f.rule} ('lifecheck explain {f.rule}').")
        return Candidate(Fix(f.fingerprint, desc, subject, reason, tuple(ops)), "embed the object in the device state")

    def _headers_naming(self, tag: str) -> List[str]:
        """The tree's headers that define ``struct tag {``."""
        out = []
        for rel in self.headers:
            lines = self.source(rel)
            if lines and any(f"struct {tag} " in t or t.rstrip().endswith(f"struct {tag}") for t in lines):
                out.append(rel)
        return out

    def _struct_lines(self, file: str, typ: str) -> Optional[Tuple[int, int]]:
        """The lines of ``struct typ {`` and of its closing ``};`` in
        ``file`` (the definition QEMU writes beside OBJECT_DECLARE_*)."""
        tag = typ.replace("struct ", "").strip()
        lines = self.lines(file)
        for i, t in enumerate(lines, 1):
            if re.match(rf"^(?:typedef\s+)?struct\s+{re.escape(tag)}\s*\{{\s*$", t):
                for j in range(i + 1, min(len(lines), i + 400) + 1):
                    if re.match(r"^\}\s*;\s*$", lines[j - 1]) or (t.startswith("typedef")
                                                                    and re.match(rf"^\}}\s*{re.escape(tag)}\s*;", lines[j - 1])):
                        return i, j
                return None
        return None

    # -- list entries ---------------------------------------------------------
    def _list_spec(self, op: Op) -> Optional[Dict[str, str]]:
        """The loop that releases the entries of a list (rules/tables/
        fixes.toml ``list_heads``) when ``op``'s resource is the first
        entry of a list head (``s->data_def.lh_first``)."""
        path = op.path
        if path is None or len(path.steps) < 2 or path.steps[-1][0] != ".":
            return None
        return self.facts.tables.get("fixes", {}).get("list_heads", {}).get(path.steps[-1][1])

    def _release_list_in(self, f: Finding, fn: Function, op: Op, phase: str, ops: List) -> Candidate:
        """Every entry of the list released in ``fn`` with a loop:
        ``QLIST_FOREACH_SAFE(d, &s->list, node, next) { QLIST_REMOVE(d,
        node); g_free(d); }``.  The link field is the one the acquiring
        function inserts the entry with; the entry's type is the type of
        the variable the allocation is stored into; the loop variables are
        named as in the file's own loops over the list."""
        spec = self._list_spec(op)
        assert spec is not None and op.path is not None
        ev = op.event
        src = self.program.functions.get(ev.function)
        if src is None or ev.site.result is None or not ev.site.result.root.startswith("param:"):
            raise NoFix("the list is not reached through a parameter of the function that fills it")
        elm_src = self.acquired_text(op)
        if not elm_src or not _IDENT_ONLY_RE.match(elm_src):
            raise NoFix("the new entry is not kept in a variable")
        typ = self.var_type(src, elm_src)
        if not typ or not typ.endswith("*"):
            raise NoFix(f"the type of the entry '{elm_src}' is not known")
        prefix = spec["foreach"].split("_", 1)[0]
        lines = self.lines(src.loc.file)
        field = None
        for i in range(ev.site.loc.line, min(src.end_line, len(lines)) + 1):
            m = re.search(rf"\b{prefix}_INSERT_\w+\s*\(([^;]*)\)\s*;", _strip_comment(lines[i - 1]))
            if m:
                args = [a.strip() for a in m.group(1).split(",")]
                if len(args) >= 3 and args[1] == elm_src and _IDENT_ONLY_RE.match(args[-1]):
                    field = args[-1]
                    break
        if field is None:
            raise NoFix(f"{src.name}() does not link the entry with a {prefix}_INSERT_*() of its own")
        # the head, as the function that fills the list names it, then as the hook does
        idx = int(ev.site.result.root.split(":", 1)[1])
        if idx >= len(src.params):
            raise NoFix("the list is not reached through a parameter of the function that fills it")
        head_steps = op.path.steps[:-1]
        head = src.params[idx].name + "".join(("->" if i == 0 else o) + n
                                              for i, (o, n) in enumerate(ev.site.result.steps[:-1]))
        head = "&" + head
        top = self.program.functions.get(ev.frames[0][0]) if ev.frames else None
        composed = self.composed(ev, head, check=False) if top is not None else None
        if composed is None:
            raise NoFix("the list head cannot be named in the hook")
        head = _simplify(self.place(composed, top, fn, ops), fn, self)
        # the loop variables: as the file's own loops over this list name them
        list_field = head_steps[-1][1]
        names = Counter()
        for text in self.lines(fn.hook.file if isinstance(fn, _Pending) else fn.loc.file):
            m = re.search(rf"\b{prefix}_FOREACH_SAFE\s*\(\s*(\w+)\s*,\s*&?\s*\w+\s*(?:->|\.)\s*"
                          rf"{re.escape(list_field)}\s*,\s*{re.escape(field)}\s*,\s*(\w+)\s*\)", text)
            if m:
                names[(m.group(1), m.group(2))] += 1
        elm, nxt = names.most_common(1)[0][0] if names else (elm_src, "next")
        taken = set(self._names_in(fn.hook.file if isinstance(fn, _Pending) else fn.loc.file)) | \
            {p.name for p in fn.params} | set(fn.locals) | {re.sub(r"\W", "", d.split("=")[0].split("*")[-1])
                                                          for d in getattr(fn, "decls", ())}
        if elm in taken or nxt in taken or elm == nxt:
            raise NoFix(f"the loop variables '{elm}' and '{nxt}' are taken in {fn.name}()")
        fam = self.api.families.get(op.family)
        rels = fam.fix_releases(op.path) if fam is not None else ()
        rel = next((r for r in rels if self.arity(r, op.family) == 1
                    or (self.release_shape(r) or (0,))[0] == 1), None)
        if rel is None:
            raise NoFix(f"no release of '{op.family}' takes the entry alone")
        tag = typ.rstrip(" *").split()[-1]
        fill = dict(elm=elm, next=nxt, head=head, field=field, type=tag)
        ind2 = INDENT * 2
        loop = (f"{INDENT}{spec['foreach'].format(**fill)} {{\n{ind2}{spec['remove'].format(**fill)}\n"
                f"{ind2}{rel}({elm});\n{INDENT}}}\n")
        decl = f"{INDENT}{typ.rstrip(' *')} *{elm}, *{nxt};\n"
        if isinstance(fn, _Pending):
            fn.decls.append(decl)
            fn.body.append(loop)
            hook = fn.hook
            ops = [dataclasses.replace(hook, decl="".join(fn.decls), body=tuple(fn.body), phase=phase)]
            where = f"a new {phase} hook {hook.name}()"
            file = hook.file
        else:
            brace = self.body_start(fn)
            flines = self.lines(fn.loc.file)
            # after the function's declarations
            at = brace + 1
            while at < len(flines) and _is_decl(flines[at - 1]):
                at += 1
            ops.append(Insert(fn.loc.file, at, decl, (-1,)))
            ops.append(Insert(fn.loc.file, self.closing_brace(fn), ("\n" if flines[self.closing_brace(fn) - 2].strip()
                                                                     else "") + loop))
            where = f"{fn.name}() ({phase})"
            file = fn.loc.file
        what = "".join(("" if i == 0 else o) + n for i, (o, n) in enumerate(head_steps))
        desc = f"add a {prefix}_FOREACH_SAFE() loop freeing every entry of {what} with {rel}() to {where}"
        subject = f"{_subject_dir(file)}: free {what} entries on {'unrealize' if phase == 'unrealize' else 'finalize'}"
        reason = (f"{_sentence(f.message)} ({f.loc.file}:{f.loc.line}, device type {f.device}): the "
                  f"entries {src.name}() allocates and links into {what} are never freed."
                  f"\n\nFree every entry of the list in {where}"
                  f"{', created for it' if where.startswith('a new') else ''}: unlink it with "
                  f"{spec['remove'].split('(')[0]}() and release it with {rel}()."
                  f"\n\nFound by lifecheck, rule {f.rule} ('lifecheck explain {f.rule}').")
        return Candidate(Fix(f.fingerprint, desc, subject, reason, tuple(ops)),
                         f"release the list entries in {phase}" + (" (new hook)" if isinstance(fn, _Pending) else ""))

    def _mapping_op(self, ev: Event) -> Op:
        for op in self.api.effects(ev):
            if op.role == "acquire":
                return op
        for fam, call in self.api.by_function.get(ev.site.callee or "", ()):
            if call.role == "acquire":
                path = ev.arg_path(call.resource)
                cont = ev.arg_path(call.container) if call.container is not None else None
                return Op("acquire", fam, path, ev, call.attrs, cont)
        raise NoFix("the mapping call is not in the API table")

    def _release_in(self, f: Finding, dev: DeviceType, ref: HookRef, op: Op, phase: str) -> Candidate:
        if phase == "instance_finalize" and op.path is not None \
                and any(o == "->" for o, _ in op.path.steps[1:]):
            # object_finalize() deletes the children before instance_finalize
            # runs: what another object holds (s->aux_bus->as, the bus a
            # child) may be gone by then
            raise NoFix(f"{op.path} is reached through {op.path.steps[0][1]}, another object, which may be "
                        "finalized before the device's instance_finalize runs")
        ops: List = []
        fn, _ = self.hook_function(dev, ref, phase, ops, op.event.function)
        beside = None if isinstance(fn, _Pending) else self._beside(dev, fn, op, phase)
        if beside is not None:
            stmt, name, at, ind = beside
            ops.append(Insert(fn.loc.file, at, wrap(ind, stmt)))
            where = f"{fn.name}() ({phase}), after the call that stops it"
            fname = fn.name
        elif self._list_spec(op) is not None:
            return self._release_list_in(f, fn, op, phase, ops)
        elif isinstance(fn, _Pending):
            ops_local: List = []
            stmt, name = self.release_call(dev, fn, op, ops_local)
            fn.body.append(wrap(INDENT, stmt))
            hook = fn.hook
            decl = "".join(fn.decls)
            hook = dataclasses.replace(hook, decl=decl, body=tuple(fn.body), phase=phase)
            ops = [hook]
            where = f"a new {phase} hook {hook.name}()"
            fname = hook.name
        else:
            stmt, name = self.release_call(dev, fn, op, ops)
            self.place_in(fn, op.family, stmt, ops)
            where = f"{fn.name}() ({phase})"
            fname = fn.name
        desc = f"add {stmt} to {where}"
        what = _subject_what(op.path, name)
        subject = f"{_subject_dir(fn.loc.file if not isinstance(fn, _Pending) else fn.hook.file)}: " \
                  f"{what} on {'unrealize' if phase == 'unrealize' else 'finalize'}"
        made = "" if where.endswith(")") and not where.startswith("a new") else ", created for it"
        reason = (f"{_sentence(f.message)} ({f.loc.file}:{f.loc.line}, device type {f.device})."
                  f"\n\nRelease it with {name}() in {where}{made if where.startswith('a new') else ''}."
                  f"\n\nFound by lifecheck, rule {f.rule} ('lifecheck explain {f.rule}').")
        return Candidate(Fix(f.fingerprint, desc, subject, reason, tuple(ops)), f"release in {phase}"
                         + (" (new hook)" if ops and isinstance(ops[0], NewHook) else ""))

    def _error_exit(self, f: Finding, more_exits: Sequence[int] = ()) -> List[Candidate]:
        """Release before the error exit the finding names, and before
        ``more_exits`` (lines of other exits that leave it behind: the
        re-check finds them one by one)."""
        exit_rel = next((r for r in f.related if r.role == "error-exit"), None)
        if exit_rel is None:
            raise NoFix("the error exit is not known")
        if any(r.role == "evidence" for r in f.related) and not more_exits:
            # the function's other error exits release it: the same release here
            return [self._sibling_exit_release(f, exit_rel.loc.file, exit_rel.loc.line)]
        out: List[Candidate] = []
        reasons: List[str] = []
        for choice in range(MAX_LABELS):
            ops: List = []
            cand = None
            try:
                for ret in [exit_rel.loc.line] + [l for l in more_exits if l != exit_rel.loc.line]:
                    cand = self._error_exit_at(f, exit_rel.loc.file, ret, ops, choice if ret == exit_rel.loc.line else 0)
            except _NoMoreLabels:
                break
            except NoFix as exc:
                reasons.append(str(exc))
                break
            assert cand is not None
            if more_exits:
                fix = cand.fix
                cand = Candidate(Fix(fix.fingerprint, fix.description + f" and {len(more_exits)} other error exit"
                                     + ("s" if len(more_exits) > 1 else ""), fix.subject, fix.reason, tuple(ops)),
                                 cand.how + " (several exits)")
            out.append(cand)
        if not out:
            raise NoFix(reasons[0] if reasons else "no place to release it on the error path")
        return out

    def _error_exit_at(self, f: Finding, file: str, ret: int, ops: List, choice: int = 0) -> Candidate:
        fkey = (file, f.function)
        fn = self.program.functions.get(fkey)
        if fn is None or not fn.loc.line < ret <= fn.end_line:
            # the exit of a helper realize calls (its own error exit leaks:
            # a failing function undoes its own work, the release goes there)
            fn = next((g for (gf, _), g in self.program.functions.items()
                       if gf == file and g.loc.line < ret <= g.end_line), None)
        if fn is None:
            raise NoFix(f"{f.function}() is not in the model")
        if not f.device:
            return self._local_error_exit(f, fn, ret, ops)
        dev = self.device(f)
        op = self.op_of(f, dev, "acquire")
        lines = self.lines(fn.loc.file)
        if not fn.loc.line < ret <= max(fn.end_line, ret):
            raise NoFix("the error exit is outside the function")
        if choice:
            raise _NoMoreLabels()
        is_return = bool(re.match(r"^\s*return\b", lines[ret - 1]))
        labels = _labels_above(lines, ret if is_return else self.closing_brace(fn) - 1, fn.loc.line, is_return)
        if not labels and not is_return:
            raise NoFix("the error exit is not a return statement of its own")
        prev = lines[ret - 2].rstrip()
        if not labels and re.match(r"^\s*(if|else|for|while)\b", prev) and not prev.endswith("{"):
            raise NoFix("the error exit is the body of an if without braces")
        label = ""
        if labels:
            kind, label, label_line, retarget = self._label_plan(fn, lines, op)
        stmt, name = self.release_call(dev, fn, op, ops)
        if label and kind == "reuse":
            # the label only paths that acquired it reach: released first,
            # as it was acquired last
            ops.append(Insert(fn.loc.file, label_line + 1, wrap(INDENT, stmt), (-op.event.site.loc.line,)))
            where = f"under the cleanup label '{label}'"
        elif label:
            # earlier paths reach the label too: a new label before it for
            # the paths that acquired it, their gotos sent there
            new = self._new_label(fn, lines, op)
            lab_ind = lines[label_line - 1][:len(lines[label_line - 1]) - len(lines[label_line - 1].lstrip())]
            ops.append(Insert(fn.loc.file, label_line, f"{lab_ind}{new}:\n" + wrap(INDENT, stmt),
                              (-op.event.site.loc.line,)))
            for i in retarget:
                ops.append(Delete(fn.loc.file, i, i))
                ops.append(Insert(fn.loc.file, i, re.sub(rf"\bgoto\s+{label}\s*;", f"goto {new};",
                                                         lines[i - 1]) + "\n", (0,)))
            where = f"under a new cleanup label '{new}' before '{label}'"
        else:
            ops.append(Insert(fn.loc.file, ret, wrap(self.indent_of(fn.loc.file, ret), stmt),
                              (-op.event.site.loc.line,)))
            where = f"before the error exit at line {ret}"
        desc = f"add {stmt} {where}"
        subject = f"{_subject_dir(fn.loc.file)}: {_subject_what(op.path, name)} on realize error"
        reason = (f"{_sentence(f.message)} ({f.loc.file}:{f.loc.line}, device type {f.device})."
                  f"\n\nRelease it with {name}() {where}"
                  f"{'; releases added at one exit are in reverse order of acquisition' if not label else ''}."
                  f"\n\nFound by lifecheck, rule {f.rule} ('lifecheck explain {f.rule}').")
        return Candidate(Fix(f.fingerprint, desc, subject, reason, tuple(ops)),
                         "release on the error path" + (" (cleanup label)" if label else ""))

    def _copy_statement(self, site: CallSite, fn: Function, before: int) -> List[str]:
        """The lines of the statement that is the call ``site`` of ``fn``,
        without their indentation, for a copy before line ``before`` of
        the same function: ``NoFix`` when it names a variable that is not
        a parameter or a local declared at the function's top before that
        line."""
        start, end = self.whole_statement(site)
        lines = self.lines(fn.loc.file)
        text = [lines[i - 1] for i in range(start, end + 1)]
        base = len(text[0]) - len(text[0].lstrip())
        for m in _IDENT_RE.finditer(" ".join(_strip_comment(t) for t in text)):
            if m.group(1) or m.group(3):
                continue
            name = m.group(2)
            local = fn.locals.get(name)
            if local is not None and (self.indent_of(fn.loc.file, local.loc.line) != INDENT
                                      or local.loc.line >= before):
                raise NoFix(f"'{name}' is not in scope at line {before}")
        return [t[base:] if t[:base].strip() == "" else t.lstrip() for t in text]

    def _sibling_exit_release(self, f: Finding, file: str, ret: int) -> Candidate:
        """An error exit that leaves behind what the function's other error
        exits release (deviant-error-exit): the release statement of the
        nearest releasing exit, copied before this exit's ``return``."""
        from ..facts.deviance import deviant_exits
        from ..model import LOCAL
        from ..rules.kinds.deviant_exit import vocabulary
        fn = self.program.functions.get((file, f.function))
        if fn is None:
            raise NoFix(f"{f.function}() is not in the model")
        words, known, handoff = vocabulary(self.facts)
        roots = (LOCAL,) + tuple(f"param:{i}" for i in range(len(fn.params)))
        d = next((d for d in deviant_exits(fn, words, known, roots, handoff)
                  if d.acquire.loc == f.loc and d.exit_line == ret), None)
        if d is None:
            raise NoFix("the deviant exit is not in the model any more")
        if f.device and f.device in self.program.types:
            # what instance_finalize hands to a call (shpc_free(d) freeing
            # d->shpc): finalize runs after a failed realize too, a release
            # here would be a second one
            dev = self.program.types[f.device]
            field = f.resource.split(".", 1)[1].split(".")[0].split("->")[0] if "." in f.resource else ""
            for ev in self.program.events(dev, "instance_finalize"):
                # the device handed whole to a helper that reaches the field
                # (shpc_free(d) frees d->shpc): the model does not see inside
                helper = self.program.resolve(ev.function[0], ev.site.callee or "")
                hfn = self.program.functions.get(helper) if helper else None
                if field and hfn is not None and any(a.path is not None and str(a.path) == "self" for a in ev.args):
                    body = "\n".join(self.lines(hfn.loc.file)[hfn.loc.line - 1:hfn.end_line])
                    if re.search(rf"(?:->|\.)\s*{re.escape(field)}\b", body):
                        raise NoFix(f"instance_finalize calls {hfn.name}(), which reaches {field}: it may "
                                    "release it after a failed realize too")
                for a in ev.args:
                    if a.path is not None and (str(a.path) == f.resource
                                               or str(a.path).startswith(f.resource + ".")
                                               or str(a.path).startswith(f.resource + "->")):
                        raise NoFix(f"instance_finalize hands {f.resource} to {ev.site.callee}() "
                                    f"({ev.site.loc.file}:{ev.site.loc.line}), which may release it")
        key = d.path.key()
        sites = [site for site in fn.calls
                 if site.callee in d.releases and site.discarded and f.loc.line < site.loc.line <= max(d.evidence)
                 and any(a.path is not None and a.path.key() == key for a in site.args)]
        if not sites:
            raise NoFix(f"no release of {f.resource} is a statement of its own at the other error exits")
        lines = self.lines(fn.loc.file)
        if not re.match(r"^\s*return\b", lines[ret - 1]):
            raise NoFix("the error exit is not a return statement of its own")
        prev = lines[ret - 2].rstrip()
        if re.match(r"^\s*(if|else|for|while)\b", prev) and not prev.endswith("{"):
            raise NoFix("the error exit is the body of an if without braces")
        site = sites[0]
        copy = self._copy_statement(site, fn, ret)
        ind = self.indent_of(fn.loc.file, ret)
        stmt = " ".join(c.strip() for c in copy)
        ops = [Insert(fn.loc.file, ret, "".join(ind + c + "\n" for c in copy), (-f.loc.line,))]
        desc = f"add {stmt} before the error exit at line {ret}, as at line {site.loc.line}"
        what = _subject_resource_text(f.resource)
        subject = f"{_subject_dir(fn.loc.file)}: {_verb(site.callee or '')} {what} on error in {fn.name}()"
        reason = (f"{_sentence(f.message)} ({f.loc.file}:{f.loc.line}"
                  f"{', device type ' + f.device if f.device else ''})."
                  f"\n\nRelease it before the error exit at line {ret} the way the exit at line "
                  f"{min(d.evidence)} does ({site.callee}()).\n\nFound by lifecheck, rule {f.rule} "
                  f"('lifecheck explain {f.rule}').")
        return Candidate(Fix(f.fingerprint, desc, subject, reason, tuple(ops)),
                         "release on the error path as the other exits do")

    def _sibling_teardown_release(self, f: Finding) -> List[Candidate]:
        """A result of a realize call that teardown forgets while it
        releases the call's other results (deviant-teardown): the same
        release, of a call that takes the resource alone, right after the
        sibling's release in the same hook."""
        dev = self.device(f)
        ev = self.event_of(f, dev)
        if ev.result is None or ev.result.root != SELF:
            raise NoFix(f"{f.resource} is not kept in the device")
        for rel in reversed(f.related):   # after the last of the siblings' releases
            if rel.role != "evidence":
                continue
            sib = next((e for phase in ("unrealize", "instance_finalize") for e in self.program.events(dev, phase)
                        if e.site.loc == rel.loc), None)
            if sib is None or len(sib.frames) != 1:
                continue
            if len(sib.site.args) != 1:
                raise NoFix(f"{sib.site.callee}() takes arguments beside the resource, which may differ for "
                            f"{f.resource}")
            fn = self.program.functions[sib.function]
            ops: List = []
            text = self.expr_in(dev, fn, ev.result, ops)
            start, end = self.whole_statement(sib.site)
            ind = self.indent_of(fn.loc.file, start)
            stmt = f"{sib.site.callee}({text});"
            ops.append(Insert(fn.loc.file, end + 1, wrap(ind, stmt)))
            desc = f"add {stmt} to {fn.name}() ({sib.phase}), after the release of {sib.args[0].path}"
            what = _subject_what(ev.result, sib.site.callee or "")
            subject = f"{_subject_dir(fn.loc.file)}: {what} on {'unrealize' if sib.phase == 'unrealize' else 'finalize'}"
            reason = (f"{_sentence(f.message)} ({f.loc.file}:{f.loc.line}, device type {f.device})."
                      f"\n\nRelease it in {fn.name}() like the other results of {ev.site.callee}(), with "
                      f"{sib.site.callee}().\n\nFound by lifecheck, rule {f.rule} ('lifecheck explain {f.rule}').")
            return [Candidate(Fix(f.fingerprint, desc, subject, reason, tuple(ops)),
                              f"release in {sib.phase} as the other results are")]
        raise NoFix("the releases of the call's other results are not statements of the device's hooks")

    def _local_op(self, f: Finding, fn: Function) -> Op:
        """The acquisition of a finding about a local (``dev = pci_new()``)."""
        key = (fn.file, fn.name)
        for site in fn.calls:
            if site.loc != f.loc:
                continue
            ev = Event("realize", site, key, site.args, site.result, (fn.name,), ((key, site.index),))
            for op in self.api.effects_uncached(ev):
                if op.role == "acquire" and _describe(op) == f.resource:
                    return op
        raise NoFix("the call behind the finding is not in the model any more")

    def _local_error_exit(self, f: Finding, fn: Function, ret: int, ops: List) -> Candidate:
        """A local the function acquired (``dev = pci_new(...)``) and does
        not hand on at an error exit (``return NULL;``): released before
        that ``return``, with the family's release; when a call between the
        acquisition and the exit made it another object's child
        (rules/tables/fixes.toml ``attaching_calls``: ``qdev_realize(dev,
        bus, errp)`` puts it on the bus), unparented first."""
        op = self._local_op(f, fn)
        path = op.path
        if path is None or path.steps or not path.root.startswith("local:"):
            raise NoFix("a local object: its release depends on how the function hands it on")
        name = path.root.split(":", 1)[1]
        local = fn.locals.get(name)
        lines = self.lines(fn.loc.file)
        if local is None or self.indent_of(fn.loc.file, local.loc.line) != INDENT or local.loc.line >= ret:
            raise NoFix(f"'{name}' is not declared at the top of {fn.name}() before the exit")
        if not re.match(r"^\s*return\b", lines[ret - 1]):
            raise NoFix("the error exit is not a return statement of its own")
        prev = lines[ret - 2].rstrip()
        if re.match(r"^\s*(if|else|for|while)\b", prev) and not prev.endswith("{"):
            raise NoFix("the error exit is the body of an if without braces")
        if re.search(rf"(?<![\w>.]){re.escape(name)}\b", lines[ret - 1]):
            raise NoFix(f"the error exit returns {name}")
        stores = [a for a in fn.assignments if (a.lhs.text or "").strip() == name]
        if len(stores) > 1:
            raise NoFix(f"'{name}' is assigned more than once in {fn.name}(): the exit may hold another object")
        if any(re.match(r"^\s?\w+:\s*$", lines[i - 1]) and not lines[i - 1].strip().startswith("default")
               for i in range(f.loc.line, ret)):
            raise NoFix("the exit is shared with other paths through a cleanup label")
        # the exit of the acquisition's own failure (``if (!dev) { return; }``):
        # nothing was acquired there
        ind = len(lines[ret - 1]) - len(lines[ret - 1].lstrip())
        for i in range(ret - 1, f.loc.line, -1):
            t = _strip_comment(lines[i - 1])
            if t.strip() and len(t) - len(t.lstrip()) < ind:
                if re.match(rf"^\s*(?:\}}\s*else\s+)?if\s*\(\s*(?:!\s*{re.escape(name)}\s*\)|"
                            rf"{re.escape(name)}\s*==\s*NULL\s*\))", t):
                    raise NoFix(f"the exit is taken when {name} was not acquired (the test of the acquisition)")
                break
        # a release of the family the function already made on the way (a
        # *_realize_and_unref() that dropped the reference): another one
        # would release it twice
        fam = self.api.families.get(op.family)
        released = set(fam.release_names()) if fam is not None else set()
        for site in fn.calls:
            if site.callee in released and f.loc.line < site.loc.line < ret \
                    and any(re.search(rf"(?<![\w>.]){re.escape(name)}\b", a.text or "") for a in site.args):
                raise NoFix(f"{site.callee}() at line {site.loc.line} may have released {name} on the way "
                            "to the exit")
        stmt, rel = self.release_call(None, fn, op, ops)   # type: ignore[arg-type]
        stmts = [stmt]
        attach = self.facts.tables.get("fixes", {}).get("attaching_calls", {})
        for site in fn.calls:
            spec = attach.get(site.callee or "")
            if not spec or not f.loc.line <= site.loc.line < ret:
                continue
            obj, parent = int(spec["object"]), int(spec["parent"])
            if max(obj, parent) >= len(site.args) or site.args[parent].is_null:
                continue
            if not re.search(rf"(?<![\w>.]){re.escape(name)}\b", site.args[obj].text or ""):
                continue
            unparent = str(spec["unparent"])
            if any(c.callee == unparent and site.loc.line < c.loc.line < ret
                   and re.search(rf"(?<![\w>.]){re.escape(name)}\b", " ".join(a.text or "" for a in c.args))
                   for c in fn.calls):
                continue   # the function unparents it already on the way
            shape = self.release_shape(unparent)
            res = f"OBJECT({name})" if shape and 0 in shape[1] else \
                self.object_arg(unparent, 0, name, self.var_type(fn, name))
            first = f"{unparent}({res});"
            if first not in stmts:
                stmts.insert(0, first)
        ind = self.indent_of(fn.loc.file, ret)
        ops.append(Insert(fn.loc.file, ret, "".join(wrap(ind, s) for s in stmts), (-op.event.site.loc.line,)))
        desc = f"add {' '.join(stmts)} before the error exit at line {ret}"
        subject = f"{_subject_dir(fn.loc.file)}: release {name} on error in {fn.name}()"
        why_unparent = ""
        for site in fn.calls:
            spec = attach.get(site.callee or "")
            if spec and len(stmts) > 1 and f.loc.line <= site.loc.line < ret:
                why_unparent = (f"  {site.callee}() at line {site.loc.line} has made it a child of "
                                f"{site.args[int(spec['parent'])].text}, so it is unparented first.")
                break
        reason = (f"{_sentence(f.message)} ({f.loc.file}:{f.loc.line}).  {fn.name}() does not hand "
                  f"{name} on at that exit: nobody else can release it."
                  f"\n\nRelease it with {rel}() before the error exit at line {ret}.{why_unparent}"
                  f"\n\nFound by lifecheck, rule {f.rule} ('lifecheck explain {f.rule}').")
        return Candidate(Fix(f.fingerprint, desc, subject, reason, tuple(ops)),
                         "release the local on the error path")

    def _label_plan(self, fn: Function, lines: List[str], op: Op) -> Tuple[str, str, int, List[int]]:
        """How the cleanup labels of ``fn`` can release ``op``'s resource:
        the label L every ``goto`` after the acquisition (and after the
        check of the acquisition itself, whose failure undoes its own work)
        jumps to; ("reuse", L, line, []) when no earlier goto reaches L,
        else ("new", L, line, the gotos to send to a new label)."""
        top = op.event.frames[0] if op.event.frames else None
        acq = fn.calls[top[1]].loc.line if top and top[0] == (fn.file, fn.name) and top[1] < len(fn.calls) \
            else op.event.site.loc.line
        close = self.closing_brace(fn)
        start = acq
        if not lines[acq - 1].strip().startswith("if"):
            end = self.statement_end(fn.file, acq)
            start = end + 1
            while start < close and not lines[start - 1].strip():
                start += 1
            cond = lines[start - 1].strip()
            m = re.match(r"^\s*([\w\->.\[\]]+)\s*=[^=]", lines[acq - 1])
            tests_it = (m is not None and re.search(rf"(?<![\w>.]){re.escape(m.group(1))}(?![\w])", cond)) \
                or re.match(r"^if\s*\(\s*\*?\s*(errp|err|local_err|error)\s*\)", cond)
            if not cond.startswith("if") or not tests_it:
                start = None
        after = end + 1 if start is None else None
        if start is not None:   # the check of the acquisition: skip its block
            depth, k, seen = 0, start, False
            while k < close:
                t = _strip_comment(lines[k - 1])
                depth += t.count("{") - t.count("}")
                seen = seen or "{" in t
                if seen and depth <= 0:
                    break
                if not seen and t.endswith(";"):
                    break
                k += 1
            after = k + 1
        gotos = []
        for i in range(after, close):
            m = re.search(r"\bgoto\s+(\w+)\s*;", lines[i - 1])
            if m:
                gotos.append((i, m.group(1)))
        targets = {t for _, t in gotos}
        if len(targets) != 1:
            raise NoFix("the error paths after the acquisition do not all jump to one cleanup label"
                        if targets else "no goto after the acquisition leads to the cleanup code")
        label = targets.pop()
        label_line = next((i for i in range(after, close) if re.match(rf"^\s?{label}:\s*$", lines[i - 1])), 0)
        if not label_line:
            raise NoFix(f"the label '{label}' is not after the acquisition")
        earlier = any(re.search(rf"\bgoto\s+{label}\s*;", lines[i - 1]) for i in range(fn.loc.line, after))
        return ("new" if earlier else "reuse", label, label_line, [i for i, _ in gotos])

    def _new_label(self, fn: Function, lines: List[str], op: Op) -> str:
        base = _subject_resource(op.path) if op.path is not None and op.path.steps else "device"
        name = f"err_{re.sub(r'[^A-Za-z0-9_]', '_', base)}"
        body = "\n".join(lines[fn.loc.line - 1:self.closing_brace(fn)])
        n = 2
        cand = name
        while re.search(rf"\b{cand}\b", body):
            cand = f"{name}{n}"
            n += 1
        return cand

    def _misplaced(self, f: Finding) -> List[Candidate]:
        dev = self.device(f)
        ev = self.event_of(f, dev)
        # unparenting a QOM child (a region) in instance_finalize: QOM has
        # already detached the children, the call goes
        child_release = any(call.role == "release" and fam in self.api.with_trait("qom-child")
                            for fam, call in self.api.by_function.get(ev.site.callee or "", ()))
        drop_only = f.hook == "instance_finalize" and child_release
        if len(ev.frames) != 1 and not (drop_only and self._finalize_only(ev.function)):
            other = self._other_caller(ev.function) if drop_only else None
            if other is not None:
                raise NoFix(f"the call is in {ev.function[1]}(), which {other[1]}() also calls outside "
                            "instance_finalize, where the call is needed")
            helper = self.program.functions.get(ev.function)
            frees = self.api.with_trait("heap")
            freeing = sorted({site.callee for site in (helper.calls if helper is not None else ())
                              if any(call.role == "release" and fam in frees
                                     for fam, call in self.api.by_function.get(site.callee or "", ()))})
            if not drop_only and freeing and self._finalize_only(ev.function):
                raise NoFix(f"the call is in {ev.function[1]}(), a helper only instance_finalize reaches that "
                            f"also frees memory ({', '.join(n + '()' for n in freeing)}): the call belongs in "
                            f"unrealize and the free in instance_finalize, a split of the helper by hand")
            other = self._other_caller(ev.function) if f.hook == "instance_finalize" else None
            if other is not None:
                raise NoFix(f"the call is in {ev.function[1]}(), a helper that {other[1]}() also calls outside "
                            f"instance_finalize: moving it changes that caller too")
            raise NoFix(f"the call is in {ev.function[1]}(), a helper that other code may call too")
        start, end = self.whole_statement(ev.site)
        lines = self.lines(ev.site.loc.file)
        stmt_lines = [_strip_comment(l).strip() for l in lines[start - 1:end]]
        stmt = " ".join(stmt_lines)
        ops: List = self.deletion(ev, start, end)
        if drop_only:
            desc = f"drop {stmt} from {ev.function[1]}()"
            subject = f"{_subject_dir(ev.site.loc.file)}: do not unparent {_subject_resource_text(f.resource)} in instance_finalize"
            reason = (f"{ev.function[1]}() (instance_finalize of {f.device}) calls {ev.site.callee}() on "
                      f"{f.resource}.  object_finalize() has already deleted the object's properties, "
                      f"detaching and releasing its children, before instance_finalize runs; memory "
                      f"regions are destroyed with their owner (docs/devel/memory.rst).\n\n"
                      f"Drop the call.\n\nFound by lifecheck, rule {f.rule}.")
            return [Candidate(Fix(f.fingerprint, desc, subject, reason, tuple(ops)), "drop the call")]
        path = next((op.path for op in self.api.effects(ev) if op.role == "release"), None)
        if path is not None and self.facts.device(dev).resource_matches("unowned-region", path):
            raise NoFix("the region has no owner: give it one in its memory_region_init*() call")
        drop = None
        if child_release and f.hook == "unrealize":
            # 10.2's memory.rst: a region is destroyed with its owner, never unparented
            drop = Candidate(Fix(f.fingerprint, f"drop {stmt} from {ev.function[1]}()",
                                 f"{_subject_dir(ev.site.loc.file)}: do not unparent "
                                 f"{_subject_resource_text(f.resource)} in unrealize",
                                 f"{ev.function[1]}() ({f.hook} of {f.device}) unparents {f.resource}, "
                                 f"which destroys it while in-flight users may still reach it.  A memory "
                                 f"region is destroyed with its owner when the device is finalized "
                                 f"(docs/devel/memory.rst, \"Region lifecycle\").\n\nDrop the call."
                                 f"\n\nFound by lifecheck, rule {f.rule}.", tuple(ops)), "drop the call")
        try:
            moved = self._move(f, dev, ev, stmt, ops)
        except NoFix:
            if drop is None:
                raise
            return [drop]
        return [moved] + ([drop] if drop is not None else [])

    def _move(self, f: Finding, dev: DeviceType, ev: Event, stmt: str, ops: List) -> Candidate:
        ops = list(ops)
        target = "instance_finalize" if f.hook == "unrealize" else "unrealize"
        ref_phase = "realize"
        refs = dev.hooks.get(ref_phase) or []
        own = [r for r in refs if r.function[0] not in self.program.core_files]
        if target == "instance_finalize":
            src_ref = next((r for r in dev.hooks.get(f.hook, ()) if r.function == ev.function), None)
            if src_ref is None:
                raise NoFix("the hook that makes the call is not the device's own")
            fn, _ = self.hook_function(dev, src_ref, target, ops)
        else:
            if not own:
                raise NoFix(f"{dev.name} has no realize hook of its own to pair an unrealize with")
            fn, _ = self.hook_function(dev, own[0], target, ops)
        src_fn = self.program.functions[ev.function]
        moved = self._rebase(stmt, src_fn, fn, dev, ops)
        if isinstance(fn, _Pending):
            hook = fn.hook
            m = _LEAD_VAR_RE.match(moved.split("(", 1)[1]) if "(" in moved else None
            var = self._first_var(moved, src_fn)
            typ = self.var_type(src_fn, var) if var else None
            if not typ:
                raise NoFix("cannot name the device state in the new hook")
            cast = self.cast_for(typ, [src_fn] + [self.program.functions[r.function] for r in own])
            p0 = hook.signature.split("(", 1)[1].rstrip(")").split()[-1].lstrip("*")
            decl = f"{INDENT}{typ.rstrip(' *')} *{var} = {cast}({p0});\n"
            ops.append(dataclasses.replace(hook, decl="".join(fn.decls) + decl, body=(wrap(INDENT, moved),),
                                           phase=target))
            where = f"a new {target} hook {hook.name}()"
        else:
            fam = next((fam for fam, c in self.api.by_function.get(ev.site.callee or "", ()) if c.role == "release"), "")
            self.place_in(fn, fam, moved, ops)
            where = f"{fn.name}() ({target})"
        desc = f"move {stmt} from {ev.function[1]}() to {where}"
        subject = f"{_subject_dir(ev.site.loc.file)}: {'free' if target == 'instance_finalize' else 'unmap'} " \
                  f"{_subject_resource_text(f.resource)} in {'instance_finalize' if target == 'instance_finalize' else 'unrealize'}"
        why = ("in-flight users (DMA, bounce buffers, other threads) may still reach it after unrealize; "
               "memory is reclaimed in instance_finalize, when the last reference goes"
               if target == "instance_finalize" else
               "the mapping keeps the owner referenced, so instance_finalize may never run, and the guest "
               "can still reach the region after unplug; subregions are deleted on unrealize")
        reason = (f"{ev.function[1]}() ({f.hook} of {f.device}) calls {ev.site.callee}() on {f.resource}: "
                  f"{why} (docs/devel/memory.rst, \"Region lifecycle\").\n\nMove the call to {where}."
                  f"\n\nFound by lifecheck, rule {f.rule}.")
        return Candidate(Fix(f.fingerprint, desc, subject, reason, tuple(ops)), f"move to {target}")

    def deletion(self, ev: Event, start: int, end: int) -> List[Delete]:
        """Delete the statement at lines start-end of ev's function, and
        the declarations of the state variables only it used (an unused
        variable breaks a -Werror build), with the blank line after them."""
        file = ev.site.loc.file
        out = [Delete(file, start, end)]
        fn = self.program.functions.get(ev.function)
        if fn is None:
            return out
        lines = self.lines(file)
        brace = self.body_start(fn)
        close = self.closing_brace(fn)
        decls = {}
        rest = []
        for i in range(brace + 1, close):
            if start <= i <= end:
                continue
            m = _CAST_DECL_RE.match(lines[i - 1])
            if m:
                decls[i] = m.group(2)
            else:
                rest.append(_strip_comment(lines[i - 1]))
        body = "\n".join(rest)
        for i, name in sorted(decls.items()):
            others = "\n".join(_strip_comment(lines[j - 1]) for j in decls if j != i)
            if not re.search(rf"\b{name}\b", body) and not re.search(rf"\b{name}\b", others):
                out.append(Delete(file, i, i, name, (brace, close)))
                if not body.strip() and i + 1 < close and not lines[i].strip() and i + 1 not in decls \
                        and not start <= i + 1 <= end:
                    out.append(Delete(file, i + 1, i + 1))
        return out

    def _finalize_only(self, key: FunctionKey, depth: int = 0) -> bool:
        """Every call of the helper ``key`` comes, through helpers, from
        instance_finalize hooks: dropping a call there changes nothing else."""
        if depth > 4:
            return False
        finalizers = self._finalizers()
        callers = list(self.program.call_graph.predecessors(key)) if key in self.program.call_graph else []
        if not callers:
            return False
        return all(c in finalizers or self._finalize_only(c, depth + 1) for c in callers)

    def _other_caller(self, key: FunctionKey) -> Optional[FunctionKey]:
        """A function that calls the helper ``key`` and is not reached
        from instance_finalize hooks only."""
        if key not in self.program.call_graph:
            return None
        finalizers = self._finalizers()
        for c in sorted(self.program.call_graph.predecessors(key)):
            if c in finalizers:
                continue
            if not self._finalize_only(c):
                return c
        return None

    def _finalizers(self) -> set:
        if not hasattr(self, "_fin"):
            self._fin = {r.function for dev in self.program.types.values()
                         for r in dev.hooks.get("instance_finalize", ())}
        return self._fin

    def _first_var(self, stmt: str, fn: Function) -> Optional[str]:
        for name in re.findall(r"\b(\w+)\s*->", stmt):
            if self.var_type(fn, name):
                return name
        return None

    def _rebase(self, stmt: str, src: Function, dst: Function, dev: DeviceType, ops: List) -> str:
        """``stmt`` (from ``src``) with its state variable renamed to the
        one ``dst`` has (a declaration added when it has none)."""
        if isinstance(dst, _Pending):
            return stmt
        out = stmt
        for name in sorted(set(re.findall(r"\b(\w+)\s*->", stmt))):
            typ = self.var_type(src, name)
            if typ is None:
                raise NoFix(f"'{name}' in the moved call is not a variable of {src.name}()")
            have = [p.name for p in dst.params if _norm_type(p.type) == typ] + \
                   [n for n, l in dst.locals.items() if _norm_type(l.type) == typ]
            if have:
                if have[0] != name:
                    out = re.sub(rf"\b{name}\s*->", have[0] + "->", out)
                continue
            if name in {p.name for p in dst.params} | set(dst.locals):
                raise NoFix(f"'{name}' means something else in {dst.name}()")
            cast = self.cast_for(typ, [src, dst])
            brace = self.body_start(dst)
            lines = self.lines(dst.loc.file)
            after = lines[brace].strip() if brace < len(lines) else ""
            ops.append(Insert(dst.loc.file, brace + 1,
                              f"{INDENT}{typ.rstrip(' *')} *{name} = {cast}({dst.params[0].name});\n"
                              f"{'' if after == '' else chr(10)}", (-1,)))
        return out

    def _second_release(self, f: Finding) -> List[Candidate]:
        dev = self.device(f)
        ev = self.event_of(f, dev)
        top = ev.frames[0][0] if ev.frames else ev.function
        shared = any(r.function == top and r.owner and r.owner != dev.name
                     for refs in dev.hooks.values() for r in refs)
        if shared:
            # the second release is in a hook an ancestor binds for all its
            # subtypes (virtio_device_instance_finalize()): the device's own
            # earlier release is the one to drop
            first = next((r for r in f.related if r.role == "release"), None)
            ev = next((e for phase in dev.hooks for e in self.program.events(dev, phase)
                       if first is not None and e.site.loc == first.loc), None)
            if ev is None or any(r.function == (ev.frames[0][0] if ev.frames else ev.function)
                                 and r.owner and r.owner != dev.name for refs in dev.hooks.values() for r in refs):
                raise NoFix("both releases are in hooks other device types share")
        first_rel = next((r for r in f.related if r.role == "release"), None)
        first_ev = next((e for phase in dev.hooks for e in self.program.events(dev, phase)
                         if first_rel is not None and e.site.loc == first_rel.loc), None)
        if first_ev is not None:
            kinds = set()
            for e in (first_ev, self.event_of(f, dev)):
                fn = self.program.functions.get(e.function)
                m = _LEAD_VAR_RE.match(e.site.args[0].text or "") if e.site.args and fn else None
                if m and fn is not None:
                    kinds.add(self.var_type(fn, m.group(1)))
            if len(kinds) > 1 and None not in kinds:
                raise NoFix(f"the two releases reach the field through different types ({', '.join(sorted(kinds))}): "
                            "the same field name may be two fields")
        if len(ev.frames) != 1:
            raise NoFix(f"the second release is in {ev.function[1]}(), a helper that other code may call too")
        start, end = self.whole_statement(ev.site)
        stmt = " ".join(_strip_comment(l).strip() for l in self.lines(ev.site.loc.file)[start - 1:end])
        first = next((r for r in f.related if r.role == "release"), None)
        desc = f"drop {stmt} from {ev.function[1]}()"
        subject = f"{_subject_dir(ev.site.loc.file)}: do not release {_subject_resource_text(f.resource)} twice"
        reason = (f"{_sentence(f.message)} ({f.loc.file}:{f.loc.line}, device type {f.device}): a double "
                  f"free.\n\nDrop the release in {ev.function[1]}()"
                  f"{' (the device code; the other release is in a hook its parent type binds for every subtype)' if shared else ''}."
                  f"\n\nFound by lifecheck, rule {f.rule} ('lifecheck explain {f.rule}').")
        return [Candidate(Fix(f.fingerprint, desc, subject, reason, tuple(self.deletion(ev, start, end))),
                          "drop the second release")]

    def _use_after_release(self, f: Finding) -> List[Candidate]:
        dev = self.device(f)
        ev = self.event_of(f, dev)
        # only a disarm of the very resource released (timer_del() after
        # timer_free()) is redundant; a release of something inside it
        # (g_free(s->dev.vqs) after vhost_dev_cleanup(&s->dev)) must move
        # before the release instead, by hand
        disarms = [op for op in self.api.effects(ev) if op.role == "disarm" and op.path is not None
                   and str(op.path) == f.resource]
        if not disarms:
            return self._save_before_wipe(f, dev, ev)
        if len(ev.frames) != 1:
            raise NoFix(f"the use is in {ev.function[1]}(), a helper that other code may call too")
        start, end = self.whole_statement(ev.site)
        stmt = " ".join(_strip_comment(l).strip() for l in self.lines(ev.site.loc.file)[start - 1:end])
        desc = f"drop {stmt}: the earlier release already did it"
        subject = f"{_subject_dir(ev.site.loc.file)}: do not use {_subject_resource_text(f.resource)} after freeing it"
        reason = (f"{ev.function[1]}() calls {ev.site.callee}() on {f.resource} after it was released: "
                  f"a use after free.  The release already stopped it.\n\nDrop the call.\n\n"
                  f"Found by lifecheck, rule {f.rule}.")
        return [Candidate(Fix(f.fingerprint, desc, subject, reason, tuple(self.deletion(ev, start, end))),
                          "drop the use")]


    # -- a field read after the release that wipes its object ---------------------
    def _save_before_wipe(self, f: Finding, dev: DeviceType, ev: Event) -> List[Candidate]:
        """``g_free(s->dev.vqs)`` after ``vhost_dev_cleanup(&s->dev)``
        zeroed ``s->dev``: the field is read into a local before the wipe
        (a declaration after the function's own) and the use takes the
        local.  Freeing it before the cleanup instead would free what the
        cleanup still reads."""
        rel_loc = next((r.loc for r in f.related if r.role == "release"), None)
        rel_ev = next((e for phase in ("unrealize", "instance_finalize") for e in self.program.events(dev, phase)
                       if rel_loc is not None and e.site.loc == rel_loc), None)
        if rel_ev is None:
            raise NoFix("the release behind the finding is not in the model any more")
        wipes = [op for op in self.api.effects(rel_ev) if op.role == "release" and "wipes" in op.attrs]
        if not wipes:
            raise NoFix(f"{ev.site.callee}() is not a disarm of {f.resource} itself and "
                        f"{rel_ev.site.callee}() frees it: the teardown must be reordered by hand")
        if rel_ev.function != ev.function:
            # saving the field means handing it to the function that uses it
            raise NoFix(f"{rel_ev.site.callee}() wipes it in {rel_ev.function[1]}() and {ev.function[1]}() reads "
                        f"it: saving it before the wipe changes what {ev.function[1]}() is given, by hand")
        fn = self.program.functions[ev.function]
        key = wipes[0].key
        used = next((i for i, a in enumerate(ev.args) if a.path is not None and a.path.root == SELF
                     and a.path.key() != key and a.path.key().startswith(key or "?")), None)
        if used is None:
            raise NoFix("the use does not read a field of the wiped object")
        text = (ev.site.args[used].text or "").strip()
        if not self.written_so(ev.site, text) or not re.fullmatch(r"\w+(?:(?:->|\.)\w+)+", text):
            raise NoFix("the field read is not written as a plain field access")
        start, end = self.whole_statement(ev.site)
        lines = self.lines(fn.loc.file)
        stmt_text = "\n".join(lines[start - 1:end])
        if stmt_text.count(text) != 1:
            raise NoFix("the use names the field more than once")
        typ = self.field_type(fn, text)
        if typ is None:
            raise NoFix(f"the type of {text} is not known")
        parts = re.split(r"->|\.", text)
        taken = {p.name for p in fn.params} | set(fn.locals) | self._names_in(fn.loc.file)
        name = next((n for n in (parts[-1], f"{parts[-2]}_{parts[-1]}") if n not in taken), None)
        if name is None:
            raise NoFix(f"no free name for a local holding {text}")
        brace = self.body_start(fn)
        at = brace + 1
        while at < len(lines) and _is_decl(lines[at - 1]):
            at += 1
        if at > rel_ev.site.loc.line:
            raise NoFix("the release is among the function's declarations")
        decl = f"{INDENT}{typ.rstrip(' *') + ' *' if typ.endswith('*') else typ + ' '}{name} = {text};\n"
        ops: List = [Insert(fn.loc.file, at, decl, (-1,)), Delete(fn.loc.file, start, end),
                     Insert(fn.loc.file, start, stmt_text.replace(text, name) + "\n", (0,))]
        desc = (f"read {text} into a local '{name}' before {rel_ev.site.callee}() wipes it, and "
                f"pass {name} to {ev.site.callee}()")
        subject = f"{_subject_dir(fn.loc.file)}: save {parts[-1]} before {rel_ev.site.callee}()"
        reason = (f"{fn.name}() ({f.hook} of {f.device}) calls {rel_ev.site.callee}() on {wipes[0].path}, which "
                  f"zeroes it, and then reads {text} for {ev.site.callee}(): the value is NULL "
                  f"there and what it pointed to is never released.  Calling {ev.site.callee}() before "
                  f"{rel_ev.site.callee}() instead would release what the cleanup still uses.\n\n"
                  f"Read the field into a local before the cleanup and release that."
                  f"\n\nFound by lifecheck, rule {f.rule} ('lifecheck explain {f.rule}').")
        return [Candidate(Fix(f.fingerprint, desc, subject, reason, tuple(ops)), "save the field before the wipe")]

    def _request_of(self, f: Finding):
        """The request (a ``reach`` Registration) ``f`` is about: made by
        the device at the finding's call, on the finding's resource."""
        reach = self.facts.reach
        dev = self.program.types.get(f.device or "")
        if reach is None or dev is None:
            return None
        for reg in reach.requests(dev):
            if reg.loc == f.loc and f.resource in (str(reg.handle), str(reg.opaque)):
                return reg
        return None

    def _request_args(self, reg, macro: bool = False):
        """(the function that makes the request ``reg``, the arguments of
        its registering call as the source writes them, or None)."""
        src = self.program.functions.get((reg.loc.file, reg.within))
        site = next((s for s in src.calls if s.loc == reg.loc), None) if src is not None else None
        return src, (self.source_args(site, macro=macro) if site is not None else None)

    def _cancel_request(self, f: Finding) -> List[Candidate]:
        """A request handed to a backend that unrealize does not cancel:
        the cancel of its registering call (rules/tables/fixes.toml
        ``request_cancels``, a [[cutoff]] of callbacks.toml), its
        arguments from the registering call, first thing in unrealize
        (after the declarations; the hook created when missing)."""
        dev = self.device(f)
        reg = self._request_of(f)
        spec = self.facts.reach.registering.get(reg.call)
        table = self.facts.tables.get("fixes", {}).get("request_cancels", {}).get(reg.call)
        referenced = self.facts.tables.get("fixes", {}).get("request_references", [])
        if spec is not None and not table and reg.call in referenced and not reg.carrier:
            return self._reference_for_request(f, reg, spec)
        if spec is None or not table:
            raise NoFix(f"no cancel of one {reg.call}() request is known (rules/tables/fixes.toml "
                        f"request_cancels): it needs what the request went to, which the call does not name")
        cancel, wanted = table.get("cancel", ""), list(table.get("args", ()))
        if cancel not in self.facts.reach.cutoffs:
            raise NoFix(f"{cancel}() is not a cut-off of rules/tables/callbacks.toml")
        src, args = self._request_args(reg)
        if args is None:
            raise NoFix(f"the arguments of {reg.call}() are not written as such in the source")
        index = {"handle": spec.handle, "opaque": spec.opaque,
                 "callback": next((i for i in spec.callbacks if i < len(args) and args[i] == reg.name), None)}
        if any(w not in index for w in wanted):
            raise NoFix(f"request_cancels.{reg.call}: unknown argument in {wanted}")
        if any(index[w] is None or not 0 <= index[w] < len(args) for w in wanted):
            raise NoFix(f"{cancel}() needs an argument {reg.call}() does not pass (its handle is its result)")
        declared = self.param_names(cancel)
        if declared is None:
            raise NoFix(f"{cancel}() is not declared in this tree's headers: the call would not build "
                        f"(the backend's cancel must be added, or backported, first)")
        if len(declared) != len(wanted):
            raise NoFix(f"{cancel}() takes {len(declared)} arguments here, request_cancels gives {len(wanted)}")
        phase = (f.expected_phases or ("unrealize",))[0]
        root = reg.root
        ev = reg.event or root.event
        if ev is None:
            raise NoFix("the callback that makes the request is not registered in a lifecycle phase")
        ops: List = []
        acquiring = self.acquiring_ref(dev, ev, ev.phase)
        fn, _ = self.hook_function(dev, acquiring, phase, ops)
        stmt = f"{cancel}(" + ", ".join(self.place(args[index[w]], src, fn, ops) for w in wanted) + ");"
        if isinstance(fn, _Pending):
            fn.body.append(wrap(INDENT, stmt))
            hook = fn.hook
            ops = [dataclasses.replace(hook, decl="".join(fn.decls), body=tuple(fn.body), phase=phase)]
            where = f"a new {phase} hook {hook.name}()"
        else:
            lines = self.lines(fn.loc.file)
            at = self.body_start(fn) + 1
            while at < len(lines) and _is_decl(lines[at - 1]):
                at += 1
            decls = at > self.body_start(fn) + 1
            text = ("\n" if decls else "") + wrap(INDENT, stmt) + \
                   ("\n" if decls and lines[at - 1].strip() not in ("", "}") else "")
            ops.append(Insert(fn.loc.file, at, text, (0,)))
            where = f"the start of {fn.name}() ({phase})"
        at_where = ("in " if isinstance(fn, _Pending) else "at ") + where
        desc = f"add {stmt} to {where}"
        subject = f"{_subject_dir(fn.loc.file if not isinstance(fn, _Pending) else fn.hook.file)}: " \
                  f"cancel pending {reg.name}() requests on {phase}"
        reason = (f"{reg.call}() in {reg.within}() hands {reg.name}() a request with the device as opaque "
                  f"({f.loc.file}:{f.loc.line}), and nothing in {phase} of {f.device} cancels or drains "
                  f"it: a request still pending at unplug completes into the freed device."
                  f"\n\nCancel the device's pending requests with {cancel}() {at_where}, before "
                  f"anything it releases."
                  f"\n\nFound by lifecheck, rule {f.rule} ('lifecheck explain {f.rule}').")
        return [Candidate(Fix(f.fingerprint, desc, subject, reason, tuple(ops)),
                          f"cancel in {phase}" + (" (new hook)" if isinstance(fn, _Pending) else ""))]

    def _reference_for_request(self, f: Finding, reg, spec) -> List[Candidate]:
        """A request with no handle to cancel it (a one-shot BH), made
        while the device runs: the device holds a reference for it --
        ``object_ref()`` of the opaque just before the request, and
        ``object_unref()`` of the callback's opaque parameter at the end of
        the callback (the pattern of hw/scsi/scsi-bus.c
        scsi_device_for_each_req_async()).  Only for a callback with no
        ``return`` of its own (one exit, at its closing brace)."""
        _, args = self._request_args(reg, macro=True)
        if args is None or not 0 <= spec.opaque < len(args):
            raise NoFix(f"the arguments of {reg.call}() are not written as such in the source")
        cb = self.program.functions.get(reg.callback)
        if cb is None or cb.loc.file != reg.loc.file:
            raise NoFix(f"{reg.name}() is not defined in {reg.loc.file}")
        params = cb.params
        if not 0 <= reg.opaque_param < len(params) or not params[reg.opaque_param].name:
            raise NoFix(f"{reg.name}() has no named opaque parameter")
        lines = self.lines(cb.loc.file)
        start, end = self.body_start(cb), self.closing_brace(cb)
        if any(re.search(r"\breturn\b", line) for line in lines[start:end - 1]):
            raise NoFix(f"{reg.name}() returns early: the reference would have to be dropped on every exit")
        line = reg.loc.line
        text = lines[line - 1]
        head = re.match(r"\s*(\w+)\s*\(", text)
        if head is None or head.group(1) in ("if", "while", "for", "switch", "return"):
            raise NoFix(f"the request at {reg.loc.file}:{line} is not a statement of its own")
        indent = self.indent_of(reg.loc.file, line)
        opaque = args[spec.opaque].strip()
        ref = f"object_ref({opaque});"
        unref = f"object_unref({params[reg.opaque_param].name});"
        ops = [Insert(reg.loc.file, line, wrap(indent, ref), (0,)),
               Insert(cb.loc.file, end, wrap(INDENT, unref), (1,))]
        desc = f"hold a reference on the device for the {reg.name}() request: {ref} before " \
               f"{reg.call}(), {unref} at the end of {reg.name}()"
        subject = f"{_subject_dir(reg.loc.file)}: hold a reference for {reg.name}()"
        reason = (f"{reg.within}() hands {reg.name}() to {reg.call}() with the device as opaque "
                  f"({f.loc.file}:{f.loc.line}).  Nothing can cancel such a request, and if the device "
                  f"is unplugged before it runs, {reg.name}() runs on the freed device."
                  f"\n\nTake a reference on the device before scheduling it and drop it at the end of "
                  f"{reg.name}(), as scsi_device_for_each_req_async() does in hw/scsi/scsi-bus.c."
                  f"\n\nFound by lifecheck, rule {f.rule} ('lifecheck explain {f.rule}').")
        return [Candidate(Fix(f.fingerprint, desc, subject, reason, tuple(ops)), "hold a reference for the request")]

    # -- a strong link a child holds back to the device ------------------------
    def _link_of(self, f: Finding):
        """(event, setter) of the link setting ``f`` is about: the finding's
        call is one of its rule's link ``setters`` and sets the link the
        finding names (``self.xhci.host``)."""
        spec = self.rules.get(f.rule)
        setters = {s.function: s for s in getattr(getattr(spec, "config", None), "setters", ()) or ()}
        dev = self.program.types.get(f.device or "")
        if not setters or dev is None:
            return None
        for ev in self.program.events(dev, f.hook):
            s = setters.get(ev.site.callee or "")
            if ev.site.loc != f.loc or s is None or max(s.object, s.name, s.target) >= len(ev.args):
                continue
            obj = ev.arg_path(s.object)
            name = ev.args[s.name].text or ""
            if obj is not None and f.resource == f"{obj}.{name.strip(chr(34))}":
                return ev, s
        return None

    def _break_link(self, f: Finding) -> List[Candidate]:
        """A QOM child holds a strong link back to the device: in
        unrealize (created when missing), unrealize the child when the
        device realized it, then set the link to NULL (rules/tables/fixes.toml
        ``link_breaks``), the setter's other arguments as the setting call
        writes them, at the end of the hook."""
        dev = self.device(f)
        ev, setter = self._link_of(f)
        table = self.facts.tables.get("fixes", {}).get("link_breaks", {}).get(ev.site.callee)
        if not table:
            raise NoFix(f"no way to clear a link set by {ev.site.callee}() is known "
                        f"(rules/tables/fixes.toml link_breaks)")
        src = self.program.functions.get(ev.function)
        args = self.source_args(ev.site)
        if src is None or args is None:
            raise NoFix(f"the arguments of {ev.site.callee}() are not written as such in the source")
        args = list(args)
        args[setter.target] = table.get("target", "NULL")
        errp = table.get("errp")
        if errp is not None and 0 <= errp < len(args) and table.get("errp_value") \
                and self._includes(ev.site.loc.file, table.get("errp_header", "")):
            args[errp] = table["errp_value"]
        child = ev.arg_path(setter.object)
        # the device realized the child itself: a realized device's qdev
        # link cannot be set, unrealize it first
        unrealize = None
        realizers = table.get("realizers", {})
        for rev in self.program.events(dev, "realize"):
            idx = realizers.get(rev.site.callee or "")
            path = rev.arg_path(idx) if idx is not None else None
            if path is None or child is None or path.key() != child.key():
                continue
            rargs = self.source_args(rev.site)
            rfn = self.program.functions.get(rev.function)
            if rargs is None or rfn is None:
                raise NoFix(f"the child argument of {rev.site.callee}() is not written as such in the source")
            text = rargs[idx]
            want, have = self.param_types(table["unrealize"]), self.param_types(rev.site.callee)
            if want is None or have is None or len(want) != 1:
                raise NoFix(f"{table['unrealize']}() is not declared with one parameter in this tree's headers")
            if _norm_type(want[0]) != _norm_type(have[idx]):
                inner = re.fullmatch(r"[A-Z_][A-Z0-9_]*\((.*)\)", text)
                text = f"{table['cast']}({inner.group(1) if inner else text})"
            unrealize = (f"{table['unrealize']}({text});", rfn)
            break
        if unrealize is None and child is not None:
            # a qdev link (DEFINE_PROP_LINK) of a child the device does not
            # realize itself: whoever realizes it must unrealize it before
            # the link can be cleared (&error_abort would abort the unplug)
            from ..rules.kinds.parent_link import _made, _strength
            cfg = self.rules[f.rule].config
            made = _made(self.facts, dev, cfg).get(child.key())
            strength = _strength(self.program, cfg, self.facts.device(dev).events, made, child.key(),
                                 f.resource.rsplit(".", 1)[-1])
            if strength.startswith("a DEFINE_PROP_LINK") and made is not None:
                raise NoFix(f"{child} is a device with a qdev link the device does not realize itself "
                            f"(no {', '.join(sorted(realizers))} of it): a realized device's link cannot be "
                            f"cleared, and what realizes it must unrealize it first")
        ops: List = []
        acquiring = self.acquiring_ref(dev, ev, ev.phase)
        if ev.phase != "realize":
            own = [r for r in dev.hooks.get("realize", ()) if r.function[0] not in self.program.core_files]
            if not own:
                raise NoFix(f"{dev.name} has no realize hook of its own to pair an unrealize with")
            acquiring = own[0]
        phase = (f.expected_phases or ("unrealize",))[0]
        fn, _ = self.hook_function(dev, acquiring, phase, ops)
        stmts = []
        if unrealize is not None:
            stmts.append(self.place(unrealize[0], unrealize[1], fn, ops))
        stmts.append(self.place(f"{ev.site.callee}(" + ", ".join(args) + ");", src, fn, ops))
        if isinstance(fn, _Pending):
            fn.body.extend(wrap(INDENT, st) for st in stmts)
            hook = fn.hook
            ops = [dataclasses.replace(hook, decl="".join(fn.decls), body=tuple(fn.body), phase=phase)]
            where = f"a new {phase} hook {hook.name}()"
        else:
            lines = self.lines(fn.loc.file)
            line = self.closing_brace(fn)
            if line > 1 and lines[line - 2].strip() == "return;":
                line -= 1
            ops.append(Insert(fn.loc.file, line, "".join(wrap(INDENT, st) for st in stmts)))
            where = f"the end of {fn.name}() ({phase})"
        link = f.resource.rsplit(".", 1)[-1]
        child_text = args[setter.object]
        desc = f"add {' '.join(stmts)} to {where}"
        file = fn.hook.file if isinstance(fn, _Pending) else fn.loc.file
        subject = f"{_subject_dir(file)}: clear the {link} link of {_subject_resource_text(str(child))} on {phase}"
        first = (f"unrealize the child with {table['unrealize']}() (a qdev link cannot be set on a realized "
                 f"device), then " if unrealize is not None else "")
        reason = (f"{_sentence(f.message)} ({f.loc.file}:{f.loc.line}, device type {f.device})."
                  f"\n\nBreak the cycle {'in' if isinstance(fn, _Pending) else 'at'} {where}: {first}set the '{link}' link of {child_text} back to "
                  f"{table.get('target', 'NULL')}, which drops the reference it holds on the device."
                  f"\n\nFound by lifecheck, rule {f.rule} ('lifecheck explain {f.rule}').")
        return [Candidate(Fix(f.fingerprint, desc, subject, reason, tuple(ops)),
                          f"clear the link in {phase}" + (" (new hook)" if isinstance(fn, _Pending) else ""))]

    def _includes(self, file: str, header: str) -> bool:
        """``file`` includes ``header`` itself (its own ``#include`` line)."""
        if not header:
            return False
        return any(re.match(rf'^\s*#\s*include\s*[<"]{re.escape(header)}[>"]', l) for l in self.lines(file))

    def _device_as_owner(self, f: Finding) -> List[Candidate]:
        """A region in the device's state initialised with another owner
        (NULL, qdev_get_machine()): the owner argument of the init call
        (the family's ``owner`` index) becomes the device's object, as the
        function already writes it (``OBJECT(s)``, an ``Object *obj``
        parameter), else ``OBJECT(v)`` of the variable the region's own
        argument is a field of (``&s->mmio``)."""
        dev = self.device(f)
        ev = self.event_of(f, dev)
        call = self.api.lookup_trait(ev.site.callee, "region", "acquire")
        if call is None or call.owner is None or call.owner >= len(ev.site.args):
            raise NoFix(f"{ev.site.callee}() has no owner argument in rules/api")
        fn = self.program.functions.get(ev.function)
        if fn is None:
            raise NoFix("the function of the call is not in the model any more")
        args = self.source_args(ev.site)
        if args is None:
            raise NoFix(f"the arguments of {ev.site.callee}() are not written as such in the source")
        region, old = args[call.resource], args[call.owner]
        path = ev.arg_path(call.resource)
        m = re.fullmatch(r"&\s*(\w+)\s*->\s*([\w.\[\]]+)", region)
        if path is None or not path.steps or m is None or not m.group(2).startswith(path.steps[0][1]) \
                or not self._names_device(fn, m.group(1)):
            raise NoFix(f"{region} is not written as a field of a variable that names the device "
                        f"in {fn.name}()")
        owner = self._object_text(fn, m.group(1))
        start, end = self.whole_statement(ev.site)
        lines = self.lines(fn.loc.file)
        stmt = lines[start - 1:end]
        # the owner argument: the text after the region argument's comma
        joined = "\n".join(stmt)
        at = joined.find("(", ev.site.loc.col - 1)
        pat = re.compile(r"(\(\s*" + r"\s*,\s*".join(re.escape(a).replace(r"\ ", r"\s+")
                                                     for a in args[:call.owner]) + r"\s*,\s*)"
                         + re.escape(old).replace(r"\ ", r"\s+") + r"(?=\s*[,)])")
        hit = pat.match(joined, at) if call.owner > 0 else None
        if hit is None:
            raise NoFix(f"the owner argument {old} of {ev.site.callee}() cannot be located in the source")
        new = joined[:hit.start()] + hit.group(1) + owner + joined[hit.end():]
        new_lines = new.split("\n")
        # the arguments after the owner stay aligned: the parenthesis does not move
        if any(len(l) > MAX_COLUMNS for l in new_lines) and not any(len(l) > MAX_COLUMNS for l in stmt) \
                and len(new_lines) == 1:
            new_lines = wrap(self.indent_of(fn.loc.file, start), new_lines[0].strip()).rstrip("\n").split("\n")
        ops: List = [Delete(fn.loc.file, start, end),
                     Insert(fn.loc.file, start, "\n".join(new_lines) + "\n", (0,))]
        what = region.lstrip("&").strip()
        desc = f"pass {owner} as the owner of {what} to {ev.site.callee}() (was {old})"
        subject = f"{_subject_dir(fn.loc.file)}: make {dev.name} the owner of {path.steps[-1][1]}"
        reason = (f"{fn.name}() ({f.hook} of {f.device}) initialises {what}, a region embedded in the "
                  f"device's state, with {old} as owner.  The region becomes a QOM child of that owner "
                  f"(of /machine/unattached for NULL) and the memory API keeps the owner alive while the "
                  f"region is in use, not the device: after unplug the region's memory is freed with the "
                  f"device while its owner and the FlatViews still hold it (docs/devel/memory.rst, "
                  f"'Region lifecycle').\n\n"
                  f"Pass the device as the region's owner."
                  f"\n\nFound by lifecheck, rule {f.rule} ('lifecheck explain {f.rule}').")
        return [Candidate(Fix(f.fingerprint, desc, subject, reason, tuple(ops)), "device as the region's owner")]

    def _object_text(self, fn: Function, var: str) -> str:
        """The device's object as ``fn`` writes it: an ``OBJECT(v)`` it
        already passes (``v`` naming the device), an ``Object *``
        parameter or local that is the device, else ``OBJECT(var)``."""
        lines = self.lines(fn.loc.file)
        body = "\n".join(_strip_comment(l) for l in lines[fn.loc.line - 1:fn.end_line])
        for m in re.finditer(r"\bOBJECT\(\s*(\w+)\s*\)", body):
            if self._names_device(fn, m.group(1)):
                return f"OBJECT({m.group(1)})"
        for name in [p.name for p in fn.params] + list(fn.locals):
            if self.var_type(fn, name) == "Object *" and self._names_device(fn, name):
                return name
        return f"OBJECT({var})"

    def field_type(self, fn: Function, text: str) -> Optional[str]:
        """The C type of the field access ``text`` (``fs->vhost_dev.vqs``)
        in ``fn``: the variable's type, then each field's declaration in the
        struct definitions of the file and the tree's headers."""
        parts = re.split(r"(->|\.)", text)
        typ = self.var_type(fn, parts[0])
        if typ is None:
            return None
        for i in range(2, len(parts), 2):
            tag = typ.replace("*", " ").replace("struct ", " ").split()
            if not tag:
                return None
            body = self.struct_body(tag[-1], fn.loc.file)
            if body is None:
                return None
            m = re.search(rf"(?:^|[;{{}}])\s*((?:const\s+)?(?:struct\s+|union\s+)?\w+)\s*(\**)\s*{re.escape(parts[i])}\s*;",
                          body, re.M)
            if not m:
                return None
            typ = _norm_type(m.group(1) + " " + m.group(2))
        return typ

    def struct_body(self, tag: str, file: str) -> Optional[str]:
        """The text between the braces of ``struct tag { ... }`` or of the
        struct typedef'd to ``tag``, in ``file`` or the tree's headers."""
        if not hasattr(self, "_structs"):
            self._structs: Dict[str, Optional[str]] = {}
        if tag in self._structs:
            return self._structs[tag]
        found = None
        for rel in [file] + self.headers:
            lines = self.source(rel)
            if not lines:
                continue
            text = "\n".join(lines)
            if tag not in text:
                continue
            for m in re.finditer(rf"\bstruct\s+{re.escape(tag)}\s*\{{|\btypedef\s+struct\s*\w*\s*\{{", text):
                depth, i = 0, m.end() - 1
                while i < len(text):
                    depth += text[i] == "{"
                    depth -= text[i] == "}"
                    if depth == 0:
                        break
                    i += 1
                body = text[m.end():i]
                if m.group(0).startswith("typedef") and not re.match(rf"\s*{re.escape(tag)}\s*;", text[i + 1:i + 200]):
                    continue
                found = body
                break
            if found is not None:
                break
        self._structs[tag] = found
        return found


def _is_decl(line: str) -> bool:
    """A declaration line at the top of a function (``int i;``,
    ``FooState *s = FOO(dev);``)."""
    t = _strip_comment(line)
    return bool(re.match(r"^\s+(?:const\s+|struct\s+|unsigned\s+)*\w+[\s*]+\w+\s*(?:\[[^]]*\])?\s*(?:[=,;].*)?;\s*$", t)) \
        and not re.match(r"^\s*(return|goto|break|continue)\b", t) and "(" not in t.split("=")[0]


class _Pending(Function):
    """A hook function that does not exist yet: the statements a fix
    puts in it are collected in ``body``."""

    def __init__(self, hook: NewHook, like: Optional[Function]):
        params = like.params[:1] if like is not None else (Param("obj", "Object *"),)
        super().__init__(name=hook.name, loc=like.loc if like is not None else None, end_line=0,
                         static=True, params=params)
        self.hook = hook
        self.body: List[str] = []
        self.decls: List[str] = []
        self.device_vars = set()


def _unparen(text: str) -> str:
    """``(&s->x)`` as an argument is ``&s->x``: one pair of parentheses
    around the whole expression dropped."""
    t = text.strip()
    if not (t.startswith("(") and t.endswith(")")):
        return text
    depth = 0
    for i, ch in enumerate(t):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and i < len(t) - 1:
            return text   # "(a)->b(c)": the first pair closes early
    inner = t[1:-1].strip()
    return inner if re.fullmatch(r"&?\s*[\w\->.\[\]()]+", inner) and not inner.startswith("*") else text


def _squash(text: Optional[str]) -> str:
    return "".join((text or "").split())


def _simplify(text: str, fn: Function, proposer: "Proposer") -> str:
    """Tidy an expression composed from arguments: ``(&x)->f`` is
    ``x.f``, ``(&x->a)->f`` is ``x->a.f``, and ``FOO(dev)->f`` is
    ``s->f`` when ``fn`` declares ``FooState *s = FOO(dev);``."""
    prev = None
    while prev != text:
        prev = text
        text = re.sub(r"\(\(([^()]*(?:\([^()]*\))?[^()]*)\)\)", r"(\1)", text)
        # DO_UPCAST(T, f, &x->f) and container_of(&x->f, T, f) are x
        text = re.sub(r"\(?DO_UPCAST\(\s*\w+\s*,\s*(\w+)\s*,\s*&\s*(\w+)\s*->\s*\1\s*\)\)?", r"\2", text)
        text = re.sub(r"\(?container_of\(\s*&\s*(\w+)\s*->\s*(\w+)\s*,\s*\w+\s*,\s*\2\s*\)\)?", r"\1", text)
        text = re.sub(r"\(&\s*([\w\->.\[\]]+)\)->", r"\1.", text)
        text = re.sub(r"&\(([\w\->.\[\]]+)\)", r"&\1", text)
        text = re.sub(r"\*\(&([\w\->.\[\]]+)\)", r"\1", text)
        text = re.sub(r"\(([A-Za-z_][\w]*(?:(?:->|\.)[A-Za-z_]\w*)*)\)(->|\.)", r"\1\2", text)
    for name, local in fn.locals.items():
        lines = proposer.source(local.loc.file)
        if not lines or not 0 < local.loc.line <= len(lines):
            continue
        m = _ANY_DECL_RE.match(lines[local.loc.line - 1])
        if m and m.group(2) == name and not _IDENT_ONLY_RE.match(m.group(3)):
            init = "".join(m.group(3).split())
            squashed = "".join(text.split())
            for form in (f"({init})", init):
                if form in squashed and not form.startswith("&"):
                    squashed = squashed.replace(form + "->", name + "->")
            if "".join(text.split()) != squashed:
                text = squashed.replace(",", ", ")
    return text


MAX_COLUMNS = 80   # QEMU's style: lines up to 80 columns (checkpatch errors past 90)


def wrap(indent: str, stmt: str) -> str:
    """``stmt`` at ``indent``, its arguments wrapped QEMU-style (aligned
    after the opening parenthesis) when the line would pass 80 columns."""
    if len(indent) + len(stmt) <= MAX_COLUMNS or "(" not in stmt:
        return indent + stmt + "\n"
    open_at = stmt.index("(")
    head, inner = stmt[:open_at + 1], stmt[open_at + 1:]
    if not inner.endswith(");"):
        return indent + stmt + "\n"
    inner = inner[:-2]
    args, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            args.append(cur.strip())
            cur = ""
            continue
        depth += ch in "([{"
        depth -= ch in ")]}"
        cur += ch
    args.append(cur.strip())
    pad = " " * (len(indent) + len(head))
    lines, line = [], indent + head
    for i, a in enumerate(args):
        piece = a + (", " if i < len(args) - 1 else ");")
        if line.strip() and line != indent + head and len(line) + len(piece.rstrip()) > MAX_COLUMNS:
            lines.append(line.rstrip())
            line = pad
        line += piece
    lines.append(line.rstrip())
    return "\n".join(lines) + "\n"


def _strip_comment(text: str) -> str:
    """A line without a trailing ``/* ... */`` or ``//`` comment."""
    text = re.sub(r"/\*[^\"]*?\*/\s*$", "", text.rstrip())
    text = re.sub(r"//[^\"]*$", "", text)
    return text.rstrip()


def _decl(typ: str, name: str) -> str:
    typ = typ.strip()
    return f"{typ}{name}" if typ.endswith("*") else f"{typ} {name}"


def _labels_above(lines: List[str], line: int, start: int, is_return: bool) -> List[Tuple[str, int]]:
    """The cleanup labels whose code may lead to the exit at ``line``:
    for a ``return``, the label of the code it ends (if any); for the end
    of the function, every label of the function's top level above it,
    nearest first (which one the leaking path came through is not known:
    the re-check decides)."""
    if is_return:
        one = _label_above(lines, line, start)
        return [one] if one[0] else []
    out = []
    depth = 0
    for i in range(line, start, -1):
        t = _strip_comment(lines[i - 1])
        m = re.match(r"^\s?(\w+):\s*$", t)
        if m and depth == 0 and m.group(1) != "default":
            out.append((m.group(1), i))
        depth += t.count("}") - t.count("{")
        if depth < 0:
            break
    return out[:MAX_LABELS]


class _NoMoreLabels(Exception):
    pass


MAX_LABELS = 4


def _label_above(lines: List[str], line: int, start: int) -> Tuple[str, int]:
    """The cleanup label whose code holds ``line`` (a label at column 0
    with only statements between it and the line), and its line."""
    for i in range(line, start, -1):
        t = lines[i - 1]
        m = re.match(r"^\s?(\w+):\s*$", t)
        if m and m.group(1) != "default":
            return m.group(1), i
        if t.strip() == "}" or t.strip().endswith("{"):
            return "", 0
    return "", 0


def _describe(op: Op) -> str:
    if op.path is not None:
        return str(op.path)
    return f"the result of {op.event.site.callee}()"


def _subject_dir(file: str) -> str:
    parts = file.split("/")
    return "/".join(parts[:-1]) if len(parts) > 1 else file


def _subject_resource(path: Optional[AccessPath]) -> str:
    if path is None:
        return "the handle"
    return path.steps[-1][1] if path.steps else "the device"


def _subject_resource_text(resource: str) -> str:
    return resource.replace("self.", "", 1).split(".")[-1].split("->")[-1]


def _sentence(message: str) -> str:
    """A finding's message as the first sentence of a commit body."""
    text = " ".join(message.split()).rstrip(".")
    if text.startswith("self."):
        text = "The device's " + text[len("self."):]
    return text[:1].upper() + text[1:]


def _subject_what(path: Optional[AccessPath], release: str) -> str:
    """``free bg.timer``, ``delete update_irq``, ``call pcie_aer_exit()``
    (the resource is the device itself): what a patch subject says."""
    if path is None or not path.steps or any(op not in ("->", ".") for op, _ in path.steps):
        return f"call {release}()"
    field = "".join(("" if i == 0 else op) + n for i, (op, n) in enumerate(path.steps))
    return f"{_verb(release)} {field}"


def _verb(release: str) -> str:
    for words, verb in ((("unref",), "unref"), (("free",), "free"), (("del_subregion",), "unmap"),
                        (("unregister", "remove"), "unregister"), (("delete", "_del"), "delete"),
                        (("close",), "close"), (("destroy",), "destroy"),
                        (("cleanup", "exit", "uninit", "fini"), "clean up")):
        if any(w in release for w in words):
            return verb
    return "release"
