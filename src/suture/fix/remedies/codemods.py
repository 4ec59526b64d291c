"""libcst rewrites of the insecure calls bandit reports, one per rule, each exact or refused.

A rewrite finds the one call a finding points at (its position covers the reported line),
changes only that call (and, for yaml, the import it needs), and returns the whole new file.
libcst keeps every comment and all formatting outside the edited nodes. Anything the rule cannot
prove safe (a custom yaml Loader, a receiver that may not be a TarFile, a shell command that
uses shell syntax, a `**kwargs` that may already carry the argument) is refused with a reason.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

import libcst as cst
from libcst.metadata import (
    Assignment,
    CodeRange,
    ImportAssignment,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    Scope,
    ScopeProvider,
)

_N = TypeVar("_N", bound=cst.CSTNode)
# How long a request may wait for the server between bytes; per socket operation, not in total.
REQUEST_TIMEOUT_S = 30
_NOSEC = re.compile(r"#.*\bnosec\b", re.IGNORECASE)
_UNSAFE_LOADERS = frozenset(
    f"yaml.{n}" for n in ("Loader", "FullLoader", "UnsafeLoader", "CLoader", "CFullLoader",
                          "CUnsafeLoader")
)
_REQUESTS_VERBS = frozenset({"get", "options", "head", "post", "put", "patch", "delete",
                             "request"})
_HTTPX_ATTRS = frozenset({"request", "stream", "Client", "AsyncClient"}) | _REQUESTS_VERBS
_TAR_OPENERS = frozenset(
    f"tarfile.{n}" for n in ("open", "TarFile", "TarFile.open", "TarFile.taropen",
                             "TarFile.gzopen", "TarFile.bz2open", "TarFile.xzopen")
)
_WEAK_HASHES = frozenset({"md4", "md5", "sha", "sha1"})
_SUBPROCESS = frozenset(
    f"subprocess.{n}" for n in ("Popen", "call", "check_call", "check_output", "run")
)
# Characters that mean something to /bin/sh: with any of them the command needs the shell.
_SHELL_SYNTAX = frozenset("|&;<>()$`\\*?[]{}~#!\n\r")
# Words the shell runs itself (or runs differently from the program of the same name).
_SHELL_BUILTINS = frozenset({
    "cd", "export", "source", ".", "alias", "unalias", "set", "unset", "exit", "exec", "eval",
    "ulimit", "umask", "trap", "wait", "read", "shift", "return", "break", "continue", "type",
    "hash", "command", "builtin", "local", "declare", "readonly", "times", "jobs", "fg", "bg",
    "echo", "printf", "test", "[", "[[", "if", "then", "else", "elif", "fi", "for", "while",
    "until", "do", "done", "case", "esac", "function", "time", "select",
})


@dataclass(frozen=True)
class Capabilities:
    """What the project's interpreter supports, for rewrites that need a newer stdlib."""

    usedforsecurity: bool = True  # hashlib's usedforsecurity= (Python 3.9+)
    tar_filter: bool = True  # TarFile.extractall(filter=...) (3.12, 3.11.4, 3.10.12, 3.9.17)


@dataclass(frozen=True)
class Rewrite:
    """A rewritten file and what was rewritten, for the proposal's text."""

    source: bytes
    callee: str  # the call as the rule names it: "yaml.load", "requests.get", "hashlib.md5"
    notes: tuple[str, ...] = ()  # rule-specific details worth telling the reviewer


@dataclass(frozen=True)
class Refusal:
    """Why a finding was left alone."""

    reason: str


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Edit:
    """Replacements by node identity, applied in one pass; None removes the node."""

    nodes: dict[int, cst.CSTNode | None] = field(default_factory=dict)
    callee: str = ""
    notes: list[str] = field(default_factory=list)


class _Source:
    """A parsed module with the metadata the rules read."""

    def __init__(self, data: bytes) -> None:
        self.wrapper = MetadataWrapper(cst.parse_module(data))
        self.module = self.wrapper.module
        self.positions = self.wrapper.resolve(PositionProvider)
        self.parents = self.wrapper.resolve(ParentNodeProvider)
        self.scopes = self.wrapper.resolve(ScopeProvider)
        self.lines = self.module.code.splitlines()

    def qualnames(self, node: cst.CSTNode) -> set[str]:
        """Fully qualified names `node` may refer to, resolved through imports."""
        scope = self.scopes.get(node)
        if scope is None:
            return set()
        return {q.name for q in scope.get_qualified_names_for(node)}

    def scope(self, node: cst.CSTNode) -> Scope:
        """The scope `node` is evaluated in."""
        scope = self.scopes.get(node)
        if scope is None:
            raise _Refused("the call is outside any scope libcst can resolve")
        return scope

    def span(self, node: cst.CSTNode) -> CodeRange:
        """Where `node` starts and ends (lines 1-based, columns 0-based)."""
        return self.positions[node]


class _Calls(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.found.append(node)


class _Apply(cst.CSTTransformer):
    def __init__(self, nodes: dict[int, cst.CSTNode | None]) -> None:
        self.nodes = nodes

    def on_leave(self, original_node: _N, updated_node: _N) -> _N | cst.RemovalSentinel:
        if id(original_node) not in self.nodes:
            return updated_node
        new = self.nodes[id(original_node)]
        return cst.RemovalSentinel.REMOVE if new is None else cast(_N, new)


@dataclass(frozen=True)
class _Rule:
    matches: Callable[[_Source, cst.Call], bool]
    rewrite: Callable[[_Source, cst.Call, Capabilities, _Edit], None]


def rewrite(rule_id: str, data: bytes, line: int, column: int | None,
            caps: Capabilities) -> Rewrite | Refusal:
    """Rewrite the call bandit reported as `rule_id` at `line` (column 1-based, if known)."""
    rule = RULES.get(rule_id)
    if rule is None:
        return Refusal(f"no codemod for {rule_id}")
    try:
        src = _Source(data)
    except (cst.ParserSyntaxError, UnicodeDecodeError) as exc:
        return Refusal(f"the file does not parse: {exc}")
    try:
        call = _pick(src, rule, line, column)
        first, last = src.span(call).start.line, src.span(call).end.line
        if any(_NOSEC.search(text) for text in src.lines[first - 1:last]):
            raise _Refused("the call is marked # nosec")
        edit = _Edit()
        rule.rewrite(src, call, caps, edit)
    except _Refused as exc:
        return Refusal(exc.reason)
    out = src.module.visit(_Apply(edit.nodes)).bytes
    try:
        ast.parse(out)
    except SyntaxError as exc:  # a bug here must never reach a proposal
        return Refusal(f"the rewrite would not parse: {exc}")
    if out == data:
        return Refusal("the rewrite changes nothing")
    return Rewrite(source=out, callee=edit.callee, notes=tuple(edit.notes))


def _pick(src: _Source, rule: _Rule, line: int, column: int | None) -> cst.Call:
    """The one call of the rule's kind whose position covers `line`."""
    visitor = _Calls()
    src.module.visit(visitor)
    covering = [c for c in visitor.found
                if src.span(c).start.line <= line <= src.span(c).end.line and rule.matches(src, c)]
    if column is not None:
        exact = [c for c in covering
                 if (src.span(c).start.line, src.span(c).start.column + 1) == (line, column)]
        if len(exact) == 1:
            return exact[0]
    if len(covering) == 1:
        return covering[0]
    starting = [c for c in covering if src.span(c).start.line == line]
    if len(starting) == 1:
        return starting[0]
    if not covering:
        raise _Refused(f"no matching call covers line {line}")
    raise _Refused(f"{len(covering)} matching calls cover line {line}; not guessing which")


# --- arguments -------------------------------------------------------------------------------

def _keyword(call: cst.Call, name: str) -> cst.Arg | None:
    return next((a for a in call.args if a.keyword is not None and a.keyword.value == name), None)


def _positional(call: cst.Call) -> list[cst.Arg]:
    return [a for a in call.args if a.keyword is None and not a.star]


def _refuse_double_star(call: cst.Call, what: str) -> None:
    # `**options` may already hold the argument; adding it again would raise a TypeError.
    if any(a.star == "**" for a in call.args):
        raise _Refused(f"the call passes **kwargs, which may already set {what}")


def _is_name(node: cst.BaseExpression, value: str) -> bool:
    return isinstance(node, cst.Name) and node.value == value


def _default_comma() -> cst.Comma:
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _separator(call: cst.Call) -> cst.Comma:
    """The comma style between this call's arguments, for a new one."""
    args = call.args
    if len(args) >= 2 and isinstance(args[-2].comma, cst.Comma):
        comma = args[-2].comma
        ws = comma.whitespace_after
        if isinstance(ws, cst.ParenthesizedWhitespace):  # drop any comment on that line
            ws = ws.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=())
        return comma.with_changes(whitespace_after=ws)
    if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        return cst.Comma(whitespace_after=call.whitespace_before_args)
    return _default_comma()


def _add_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """`call` with `name=value` appended, on its own line when the arguments are one a line."""
    new = cst.Arg(value=value, keyword=cst.Name(name),
                  equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                        whitespace_after=cst.SimpleWhitespace("")))
    if not call.args:
        return call.with_changes(args=(new,))
    *rest, last = call.args
    sep = _separator(call)
    comma = last.comma
    if isinstance(comma, cst.Comma):
        ws = comma.whitespace_after
        if isinstance(ws, cst.ParenthesizedWhitespace) and isinstance(
                sep.whitespace_after, cst.ParenthesizedWhitespace):
            # One argument a line with a trailing comma: the old last keeps its comment and
            # gets the shared indent; the new argument ends where the old one did.
            old = last.with_changes(comma=comma.with_changes(whitespace_after=ws.with_changes(
                indent=sep.whitespace_after.indent, last_line=sep.whitespace_after.last_line)))
            new = new.with_changes(comma=comma.with_changes(whitespace_after=ws.with_changes(
                first_line=cst.TrailingWhitespace(), empty_lines=())))
        else:
            old = last.with_changes(comma=_default_comma())
            new = new.with_changes(comma=comma)
        return call.with_changes(args=(*rest, old, new))
    after = last.whitespace_after_arg
    if isinstance(after, cst.ParenthesizedWhitespace) and isinstance(
            sep.whitespace_after, cst.ParenthesizedWhitespace):
        old = last.with_changes(
            whitespace_after_arg=cst.SimpleWhitespace(""),
            comma=sep.with_changes(whitespace_after=after.with_changes(
                indent=sep.whitespace_after.indent, last_line=sep.whitespace_after.last_line)))
        new = new.with_changes(whitespace_after_arg=after.with_changes(
            first_line=cst.TrailingWhitespace(), empty_lines=()))
    else:
        old = last.with_changes(comma=sep, whitespace_after_arg=cst.SimpleWhitespace(""))
        new = new.with_changes(whitespace_after_arg=after)
    return call.with_changes(args=(*rest, old, new))


def _drop_args(call: cst.Call, drop: Sequence[cst.Arg]) -> cst.Call:
    """`call` without the arguments in `drop`; the closing layout is kept."""
    kept = [a for a in call.args if not any(a is d for d in drop)]
    if not kept or call.args[-1] is kept[-1]:
        return call.with_changes(args=tuple(kept))
    removed_last = call.args[-1]
    last = kept[-1]
    closing = removed_last.comma
    comment = last.comma.whitespace_after if isinstance(last.comma, cst.Comma) else None
    if isinstance(closing, cst.Comma):
        ws = closing.whitespace_after
        if isinstance(ws, cst.ParenthesizedWhitespace) and isinstance(
                comment, cst.ParenthesizedWhitespace):
            # Keep a comment that followed the kept argument; close as the dropped one did.
            ws = ws.with_changes(first_line=comment.first_line, empty_lines=comment.empty_lines)
        last = last.with_changes(comma=closing.with_changes(whitespace_after=ws),
                                 whitespace_after_arg=removed_last.whitespace_after_arg)
    else:
        after = removed_last.whitespace_after_arg
        if isinstance(after, cst.ParenthesizedWhitespace) and isinstance(
                comment, cst.ParenthesizedWhitespace):
            after = after.with_changes(first_line=comment.first_line,
                                       empty_lines=comment.empty_lines)
        last = last.with_changes(comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=after)
    return call.with_changes(args=(*kept[:-1], last))


def _replace_arg(call: cst.Call, old: cst.Arg, new: cst.Arg) -> cst.Call:
    return call.with_changes(args=tuple(new if a is old else a for a in call.args))


def _string(value: str, quote: str = '"') -> cst.SimpleString:
    if quote in value or not value.isprintable() or "\\" in value:
        return cst.SimpleString(repr(value))
    return cst.SimpleString(f"{quote}{value}{quote}")


# --- B506: yaml.load -------------------------------------------------------------------------

def _yaml_matches(src: _Source, call: cst.Call) -> bool:
    return "yaml.load" in src.qualnames(call.func)


def _yaml_rewrite(src: _Source, call: cst.Call, caps: Capabilities, edit: _Edit) -> None:
    if any(a.star for a in call.args):
        raise _Refused("yaml.load is called with *args or **kwargs")
    positional = _positional(call)
    names = {a.keyword.value for a in call.args if a.keyword is not None}
    if names - {"stream", "Loader"} or len(positional) + len(names) > 2:
        raise _Refused("yaml.load is called with arguments other than stream and Loader")
    loader = _keyword(call, "Loader") or (positional[1] if len(positional) == 2 else None)
    if loader is not None and not src.qualnames(loader.value) & _UNSAFE_LOADERS:
        # A custom Loader may add constructors the file relies on; safe_load would drop them.
        raise _Refused("yaml.load uses a Loader that is not one of PyYAML's own")
    func = _safe_load_func(src, call, edit)
    edit.callee = "yaml.load"
    if loader is not None:
        edit.notes.append(f"the Loader argument ({src.module.code_for_node(loader.value)}) is "
                          "dropped: safe_load always uses SafeLoader")
        _drop_unused_import(src, loader.value, call, edit)
    edit.nodes[id(call)] = _drop_args(call, [loader] if loader else []).with_changes(func=func)


def _safe_load_func(src: _Source, call: cst.Call, edit: _Edit) -> cst.BaseExpression:
    """The expression to call instead: `<yaml module>.safe_load` or a `safe_load` name."""
    if isinstance(call.func, cst.Attribute):
        return call.func.with_changes(attr=cst.Name("safe_load"))
    if not isinstance(call.func, cst.Name):
        raise _Refused("yaml.load is reached through an expression, not a name")
    scope = src.scope(call)
    if _bound_only_to(scope, "safe_load", "yaml.safe_load"):
        _drop_unused_import(src, call.func, call, edit)
        return cst.Name("safe_load")
    if _bound_only_to(scope, "yaml", "yaml"):
        _drop_unused_import(src, call.func, call, edit)
        return cst.Attribute(value=cst.Name("yaml"), attr=cst.Name("safe_load"))
    if scope["safe_load"]:
        raise _Refused("the name safe_load is already taken in this module")
    stmt = _import_of(scope, call.func.value)
    edit.nodes[id(stmt)] = _edit_import(
        stmt, drop={call.func.value} if _only_use(scope, call.func.value, call) else set(),
        add="safe_load")
    edit.notes.append("safe_load is imported from yaml next to load")
    return cst.Name("safe_load")


def _bound_only_to(scope: Scope, name: str, qualname: str) -> bool:
    found = scope[name]
    return (bool(found) and all(isinstance(a, ImportAssignment) for a in found)
            and {q.name for q in scope.get_qualified_names_for(name)} == {qualname})


def _import_of(scope: Scope, name: str) -> cst.ImportFrom:
    found = list(scope[name])
    if len(found) != 1 or not isinstance(found[0], ImportAssignment) or not isinstance(
            found[0].node, cst.ImportFrom):
        raise _Refused(f"{name} is not bound by exactly one from-import")
    return found[0].node


def _only_use(scope: Scope, name: str, call: cst.Call) -> bool:
    """Whether every use of `name` is inside `call` (so the rewrite leaves it unused)."""
    found = list(scope[name])
    if len(found) != 1:
        return False
    refs = [r.node for r in found[0].references]
    return bool(refs) and all(_inside(ref, call) for ref in refs)


def _inside(node: cst.CSTNode, call: cst.Call) -> bool:
    holder = _Holder(node)
    call.visit(holder)
    return holder.seen


class _Holder(cst.CSTVisitor):
    def __init__(self, target: cst.CSTNode) -> None:
        self.target = target
        self.seen = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if node is self.target:
            self.seen = True
        return not self.seen


def _drop_unused_import(src: _Source, expr: cst.BaseExpression, call: cst.Call,
                        edit: _Edit) -> None:
    """Remove the from-import of `expr` when `call` was its only use, so lint stays clean."""
    if not isinstance(expr, cst.Name):
        return
    scope = src.scope(call)
    if not _only_use(scope, expr.value, call):
        return
    try:
        stmt = _import_of(scope, expr.value)
    except _Refused:
        return
    current = edit.nodes.get(id(stmt), stmt)
    if isinstance(current, cst.ImportFrom):  # None: an earlier drop emptied it already
        edit.nodes[id(stmt)] = _edit_import(current, drop={expr.value}, add=None)
        edit.notes.append(f"the import of {expr.value} is removed: nothing else used it")


def _edit_import(stmt: cst.ImportFrom, drop: set[str], add: str | None) -> cst.ImportFrom | None:
    """`stmt` without the names in `drop` (by local name) and with `add`, kept in order."""
    if isinstance(stmt.names, cst.ImportStar):
        raise _Refused("the name comes from a star import")
    names = list(stmt.names)
    kept = [a for a in names if (a.evaluated_alias or a.evaluated_name) not in drop]
    if add is not None:
        at = next((i for i, a in enumerate(kept) if a.evaluated_name > add), len(kept))
        kept.insert(at, cst.ImportAlias(name=cst.Name(add)))
    if not kept:
        return None
    sep = next((a.comma for a in names[:-1] if isinstance(a.comma, cst.Comma)), _default_comma())
    # Inner names keep their own comma; the last one keeps the statement's trailing layout.
    fixed = [a.with_changes(comma=a.comma if isinstance(a.comma, cst.Comma) and a is not names[-1]
                            else sep) for a in kept[:-1]]
    fixed.append(kept[-1].with_changes(comma=names[-1].comma))
    return stmt.with_changes(names=tuple(fixed))


# --- B113: requests without timeout ----------------------------------------------------------

def _http_matches(src: _Source, call: cst.Call) -> bool:
    for q in src.qualnames(call.func):
        head, _, rest = q.partition(".")
        tail = q.rsplit(".", 1)[-1]
        if head == "requests" and rest and tail in _REQUESTS_VERBS:
            return True
        if head == "httpx" and rest and tail in _HTTPX_ATTRS:
            return True
    return False


def _http_rewrite(src: _Source, call: cst.Call, caps: Capabilities, edit: _Edit) -> None:
    edit.callee = min(q for q in src.qualnames(call.func))
    timeout = _keyword(call, "timeout")
    value = cst.Integer(str(REQUEST_TIMEOUT_S))
    if timeout is None:
        if edit.callee.startswith("httpx."):
            raise _Refused("httpx already applies a default timeout")
        _refuse_double_star(call, "timeout")
        edit.nodes[id(call)] = _add_keyword(call, "timeout", value)
    elif _is_name(timeout.value, "None"):
        edit.notes.append("the explicit timeout=None (wait forever) becomes "
                          f"timeout={REQUEST_TIMEOUT_S}")
        edit.nodes[id(call)] = _replace_arg(call, timeout, timeout.with_changes(value=value))
    else:
        raise _Refused("the call already sets a timeout")


# --- B202: tarfile extractall ----------------------------------------------------------------

def _tar_matches(src: _Source, call: cst.Call) -> bool:
    return isinstance(call.func, cst.Attribute) and call.func.attr.value == "extractall"


def _tar_rewrite(src: _Source, call: cst.Call, caps: Capabilities, edit: _Edit) -> None:
    if not caps.tar_filter:
        raise _Refused("the project's Python has no tarfile extraction filters "
                       "(3.12+, or 3.11.4 / 3.10.12 / 3.9.17 and later)")
    if not isinstance(call.func, cst.Attribute) or not _is_tarfile(src, call.func.value):
        # zipfile.ZipFile.extractall has the same name and no filter argument.
        raise _Refused("cannot tell that the object is a tarfile.TarFile")
    if _keyword(call, "filter") is not None:
        raise _Refused("extractall already chooses a filter")
    _refuse_double_star(call, "filter")
    edit.callee = "tarfile.TarFile.extractall"
    edit.nodes[id(call)] = _add_keyword(call, "filter", _string("data", _quote_style(src)))


def _quote_style(src: _Source) -> str:
    single = src.module.code.count("'")
    return "'" if single > src.module.code.count('"') else '"'


def _is_tarfile(src: _Source, expr: cst.BaseExpression) -> bool:
    """True when `expr` can only be a TarFile: opened right there or bound only to openers."""
    if isinstance(expr, cst.Call):
        return bool(src.qualnames(expr.func) & _TAR_OPENERS)
    if not isinstance(expr, cst.Name):
        return False
    found = list(src.scope(expr)[expr.value])
    return bool(found) and all(_binds_tarfile(src, a) for a in found)


def _binds_tarfile(src: _Source, binding: object) -> bool:
    if not isinstance(binding, Assignment):
        return False
    if isinstance(binding.node, cst.Param):  # a parameter annotated as a TarFile
        note = binding.node.annotation
        return note is not None and "tarfile.TarFile" in src.qualnames(note.annotation)
    if not isinstance(binding.node, cst.Name):
        return False
    parent = src.parents.get(binding.node)
    if isinstance(parent, cst.AsName):
        item = src.parents.get(parent)
        return isinstance(item, cst.WithItem) and _is_tarfile(src, item.item)
    if isinstance(parent, cst.AssignTarget):
        assign = src.parents.get(parent)
        return isinstance(assign, cst.Assign) and _is_tarfile(src, assign.value)
    if isinstance(parent, cst.AnnAssign) and parent.value is not None and _is_tarfile(
            src, parent.value):
        return True
    if isinstance(parent, cst.AnnAssign):
        return "tarfile.TarFile" in src.qualnames(parent.annotation.annotation)
    return False


# --- B201: flask debug -----------------------------------------------------------------------

def _flask_matches(src: _Source, call: cst.Call) -> bool:
    debug = _keyword(call, "debug")
    return (isinstance(call.func, cst.Attribute) and call.func.attr.value == "run"
            and debug is not None and _is_name(debug.value, "True"))


def _flask_rewrite(src: _Source, call: cst.Call, caps: Capabilities, edit: _Edit) -> None:
    debug = _keyword(call, "debug")
    if debug is None:
        raise _Refused("the call does not pass debug")
    edit.callee = f"{src.module.code_for_node(call.func)}"
    edit.nodes[id(call)] = _replace_arg(call, debug, debug.with_changes(value=cst.Name("False")))


# --- B324: weak hashes -----------------------------------------------------------------------

def _hash_name(src: _Source, call: cst.Call) -> str | None:
    """The weak algorithm this call creates, or None."""
    for q in src.qualnames(call.func):
        parts = q.split(".")
        if parts[0] != "hashlib":
            continue
        if parts[-1] in _WEAK_HASHES:
            return parts[-1]
        if parts[-1] == "new":
            first = _keyword(call, "name") or next(iter(_positional(call)), None)
            if first is not None and isinstance(first.value, cst.SimpleString):
                algo = first.value.evaluated_value
                if isinstance(algo, str) and algo.lower() in _WEAK_HASHES:
                    return algo.lower()
    return None


def _hash_matches(src: _Source, call: cst.Call) -> bool:
    return _hash_name(src, call) is not None


def _hash_rewrite(src: _Source, call: cst.Call, caps: Capabilities, edit: _Edit) -> None:
    if not caps.usedforsecurity:
        raise _Refused("the project's Python has no usedforsecurity= (3.9+)")
    if _keyword(call, "usedforsecurity") is not None:
        # usedforsecurity=True says the hash protects something: the fix is a stronger hash.
        raise _Refused("the call already states usedforsecurity")
    _refuse_double_star(call, "usedforsecurity")
    edit.callee = f"hashlib.{_hash_name(src, call)}"
    edit.nodes[id(call)] = _add_keyword(call, "usedforsecurity", cst.Name("False"))


# --- B602 / B604: shell=True -----------------------------------------------------------------

def _shell_matches(src: _Source, call: cst.Call) -> bool:
    shell = _keyword(call, "shell")
    return (shell is not None and _is_name(shell.value, "True")
            and bool(src.qualnames(call.func) & _SUBPROCESS))


def split_plain_command(command: str) -> list[str] | None:
    """The argv of a command the shell would only split into words, or None if it does more."""
    if not command.strip() or any(ch in _SHELL_SYNTAX for ch in command):
        return None
    try:
        words = shlex.split(command, posix=True)
    except ValueError:  # an unbalanced quote
        return None
    if not words or words[0] in _SHELL_BUILTINS or "=" in words[0]:
        return None  # a builtin or `VAR=value cmd` needs the shell
    return words


def _shell_rewrite(src: _Source, call: cst.Call, caps: Capabilities, edit: _Edit) -> None:
    if any(a.star for a in call.args):
        raise _Refused("the call passes *args or **kwargs")
    if _keyword(call, "executable") is not None:
        raise _Refused("executable= names the shell here; without a shell it means the program")
    command = _keyword(call, "args") or next(iter(_positional(call)), None)
    if command is not None and isinstance(command.value, cst.FormattedString):
        values, text, words = _fstring_argv(command.value)
    else:
        if command is None or not isinstance(command.value,
                                             cst.SimpleString | cst.ConcatenatedString):
            raise _Refused("the command is not a string literal")
        evaluated = command.value.evaluated_value
        if not isinstance(evaluated, str):
            raise _Refused("the command is not a plain str literal")
        text = evaluated
        split = split_plain_command(text)
        if split is None:
            raise _Refused("the command uses shell syntax or a shell builtin")
        quote = '"'
        if isinstance(command.value, cst.SimpleString) and command.value.quote in ("'", '"'):
            quote = command.value.quote
        words = split
        values = [_string(w, quote) for w in split]
    items = [cst.Element(value=v, comma=_default_comma()) for v in values]
    items[-1] = items[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    argv = command.with_changes(value=cst.List(elements=items))
    shell = [a for a in call.args if a.keyword is not None and a.keyword.value == "shell"]
    edit.callee = min(src.qualnames(call.func) & _SUBPROCESS)
    edit.notes.append(f"the command {text!r} becomes the argument list {words!r}")
    edit.nodes[id(call)] = _drop_args(_replace_arg(call, command, argv), shell)


def _fstring_argv(fstring: cst.FormattedString) -> tuple[list[cst.BaseExpression], str, list[str]]:
    """`f"gzip -9 {path}"` -> [`"gzip"`, `"-9"`, `str(path)`]: each value one whole argument.

    Through the shell an interpolated value is split and expanded (the injection bandit warns
    of); as one argument it is passed as is, which is what the code means. Refused unless
    every literal part is plain words and every `{value}` stands alone as a word.
    """
    quote = fstring.start[-1] if fstring.start[-1] in ("'", '"') else '"'
    if len(fstring.start) != 2 or fstring.start[0].lower() != "f":
        raise _Refused("only plain f-strings are rewritten (no raw or triple-quoted ones)")
    values: list[cst.BaseExpression] = []
    words: list[str] = []
    glued = False  # the previous token ends without a space: the next one would join it
    for i, part in enumerate(fstring.parts):
        if isinstance(part, cst.FormattedStringText):
            raw = part.value
            if any(ch in _SHELL_SYNTAX or ch in "'\"\\" for ch in raw):
                raise _Refused("the command uses shell syntax or quoting")
            if glued and raw[:1] not in (" ", "\t"):
                raise _Refused("a {value} is glued to other text in one word")
            for word in raw.split():
                values.append(_string(word, quote))
                words.append(word)
            glued = bool(raw) and raw[-1] not in (" ", "\t")
            continue
        if not isinstance(part, cst.FormattedStringExpression) or part.format_spec \
                or part.conversion or (glued and i > 0):
            raise _Refused("a {value} is formatted or glued to other text in one word")
        values.append(cst.Call(func=cst.Name("str"), args=[cst.Arg(value=part.expression)]))
        words.append("{" + cst.Module([]).code_for_node(part.expression) + "}")
        glued = True
    if not words or words[0].startswith("{") or words[0] in _SHELL_BUILTINS or "=" in words[0]:
        raise _Refused("the program is not a literal word, or it is a shell builtin")
    return values, cst.Module([]).code_for_node(fstring), words


RULES: dict[str, _Rule] = {
    "B506": _Rule(_yaml_matches, _yaml_rewrite),
    "B113": _Rule(_http_matches, _http_rewrite),
    "B202": _Rule(_tar_matches, _tar_rewrite),
    "B201": _Rule(_flask_matches, _flask_rewrite),
    "B324": _Rule(_hash_matches, _hash_rewrite),
    "B602": _Rule(_shell_matches, _shell_rewrite),
    "B604": _Rule(_shell_matches, _shell_rewrite),
}
