"""Small edits to one line of Python, the candidate fixes a search-based repair tries.

Each operator rewrites one node that lies wholly on the chosen line, through libcst, so the
rest of the file keeps its exact text. Candidates come in a fixed order: the operators whose
fixes are most common first (a boundary `<` for `<=`, an off-by-one), and within an operator
the nearest replacement first. Mutants that do not parse, or that change nothing, are dropped.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast

import libcst as cst
from libcst.metadata import (
    CodeRange,
    ExpressionContext,
    ExpressionContextProvider,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
)

OPERATORS = ("comparison", "off-by-one", "boolean", "constant", "arithmetic", "negation",
             "builtin", "swap", "variable", "delete")

_COMPARE: dict[type[cst.BaseCompOp], tuple[type[cst.BaseCompOp], ...]] = {
    cst.LessThan: (cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual, cst.NotEqual,
                   cst.Equal),
    cst.LessThanEqual: (cst.LessThan, cst.GreaterThanEqual, cst.GreaterThan, cst.Equal,
                        cst.NotEqual),
    cst.GreaterThan: (cst.GreaterThanEqual, cst.LessThan, cst.LessThanEqual, cst.NotEqual,
                      cst.Equal),
    cst.GreaterThanEqual: (cst.GreaterThan, cst.LessThanEqual, cst.LessThan, cst.Equal,
                           cst.NotEqual),
    cst.Equal: (cst.NotEqual, cst.LessThanEqual, cst.GreaterThanEqual),
    cst.NotEqual: (cst.Equal, cst.LessThan, cst.GreaterThan),
    cst.Is: (cst.IsNot,),
    cst.IsNot: (cst.Is,),
    cst.In: (cst.NotIn,),
    cst.NotIn: (cst.In,),
}
_ARITH: dict[type[cst.BaseBinaryOp], tuple[type[cst.BaseBinaryOp], ...]] = {
    cst.Add: (cst.Subtract, cst.Multiply),
    cst.Subtract: (cst.Add,),
    cst.Multiply: (cst.Divide, cst.FloorDivide, cst.Add, cst.Power),
    cst.Divide: (cst.FloorDivide, cst.Multiply),
    cst.FloorDivide: (cst.Divide, cst.Modulo, cst.Multiply),
    cst.Modulo: (cst.FloorDivide, cst.Divide),
    cst.Power: (cst.Multiply,),
}
_AUG: dict[type[cst.BaseAugOp], tuple[type[cst.BaseAugOp], ...]] = {
    cst.AddAssign: (cst.SubtractAssign, cst.MultiplyAssign),
    cst.SubtractAssign: (cst.AddAssign,),
    cst.MultiplyAssign: (cst.DivideAssign, cst.AddAssign),
    cst.DivideAssign: (cst.FloorDivideAssign, cst.MultiplyAssign),
    cst.FloorDivideAssign: (cst.DivideAssign, cst.ModuloAssign),
    cst.ModuloAssign: (cst.FloorDivideAssign,),
}
# Builtins easily confused for their twin.
_BUILTINS = {"min": "max", "max": "min", "any": "all", "all": "any"}
_NON_COMMUTATIVE = (cst.Subtract, cst.Divide, cst.FloorDivide, cst.Modulo, cst.Power)
# Expressions that take `+ 1` without changing how the rest parses.
_SHIFTABLE = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.BinaryOperation)
_ATOMIC = (cst.Name, cst.Attribute, cst.Call, cst.Subscript)
_NO_DELETE = (cst.Pass, cst.Import, cst.ImportFrom, cst.Global, cst.Nonlocal)
_SNIPPET = 40
_NodeT = TypeVar("_NodeT", bound=cst.CSTNode)


@dataclass(frozen=True)
class Mutant:
    """One candidate: the whole new source and what changed on which line."""

    operator: str  # one of OPERATORS
    description: str  # imperative: "Change `<` to `<=`"
    line: int
    before: str  # the line as it was, stripped
    after: str  # the line as it is now, stripped; "" when the statement was deleted
    source: str


@dataclass(frozen=True)
class _Edit:
    operator: str
    description: str
    old: cst.CSTNode
    new: cst.CSTNode | cst.RemovalSentinel


class _Line:
    """The parsed module and the nodes lying wholly on one line, in source order."""

    def __init__(self, source: str, line: int) -> None:
        wrapper = MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
        self.module = wrapper.module
        self.line = line
        self.pos = cast(dict[cst.CSTNode, CodeRange], dict(wrapper.resolve(PositionProvider)))
        self.context = wrapper.resolve(ExpressionContextProvider)
        self.parent = wrapper.resolve(ParentNodeProvider)
        on = [n for n, p in self.pos.items() if p.start.line == line and p.end.line == line]
        on.sort(key=lambda n: (self.pos[n].start.column, -self.pos[n].end.column))
        self.nodes = on

    def starting(self) -> list[cst.CSTNode]:
        """Nodes that start on the line (compound statements end further down)."""
        found = [n for n, p in self.pos.items() if p.start.line == self.line]
        return sorted(found, key=lambda n: self.pos[n].start.column)

    def code(self, node: cst.CSTNode) -> str:
        """A node's source text, stripped and shortened for a description."""
        text = " ".join(self.module.code_for_node(node).split())
        return text if len(text) <= _SNIPPET else text[: _SNIPPET - 3] + "..."

    def of(self, kind: type[cst.CSTNode]) -> list[cst.CSTNode]:
        """The nodes of one type on the line."""
        return [n for n in self.nodes if isinstance(n, kind)]


def mutants(source: str, line: int, operators: Sequence[str] = OPERATORS) -> list[Mutant]:
    """Every distinct, parseable mutant of `line` (1-based) in `source`, in trying order."""
    try:
        at = _Line(source, line)
    except (cst.ParserSyntaxError, RecursionError):
        return []
    lines = source.splitlines()
    if not 0 < line <= len(lines):
        return []
    before = lines[line - 1].strip()
    seen = {source}
    out: list[Mutant] = []
    for name in operators:
        for edit in _GENERATORS[name](at):
            new_module = at.module.deep_remove(edit.old) \
                if isinstance(edit.new, cst.RemovalSentinel) \
                else at.module.deep_replace(edit.old, edit.new)
            if not isinstance(new_module, cst.Module):
                continue
            code = new_module.code
            if code in seen or not _parses(code):
                continue
            seen.add(code)
            deleted = isinstance(edit.new, cst.RemovalSentinel)
            new_lines = code.splitlines()
            after = "" if deleted or line > len(new_lines) else new_lines[line - 1].strip()
            out.append(Mutant(operator=edit.operator, description=edit.description, line=line,
                              before=before, after=after, source=code))
    return out


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _comparison(at: _Line) -> Iterator[_Edit]:
    for node in at.of(cst.ComparisonTarget):
        target = cast(cst.ComparisonTarget, node)
        old = target.operator
        for new_cls in _COMPARE.get(type(old), ()):
            new_op = _respaced(old, new_cls)
            yield _Edit("comparison", f"Change `{_op(old)}` to `{_op(new_op)}`", target,
                        target.with_changes(operator=new_op))


def _respaced(old: cst.CSTNode, new_cls: type[_NodeT]) -> _NodeT:
    """An operator of `new_cls` spaced like `old`, so the line keeps its look."""
    spacing = {k: getattr(old, k) for k in ("whitespace_before", "whitespace_after")
               if hasattr(old, k)}
    return new_cls(**spacing)


def _op(node: cst.CSTNode) -> str:
    return " ".join(cst.Module(body=[]).code_for_node(node).split())


def _off_by_one(at: _Line) -> Iterator[_Edit]:
    dropped: set[int] = set()  # literals whose `x + 0` would only repeat a dropped `+ 1`
    for node in at.of(cst.BinaryOperation):
        binop = cast(cst.BinaryOperation, node)
        right = binop.right
        if (isinstance(binop.operator, cst.Add | cst.Subtract) and isinstance(right, cst.Integer)
                and right.value == "1"):
            dropped.add(id(right))
            # The parentheses stay: `c * (a - b + 1)` must become `c * (a - b)`.
            left = binop.left.with_changes(lpar=binop.lpar, rpar=binop.rpar) \
                if binop.lpar and not binop.left.lpar else binop.left
            yield _Edit("off-by-one", f"Change `{at.code(binop)}` to `{at.code(binop.left)}`",
                        binop, left)
    for node in at.of(cst.Integer):
        literal = cast(cst.Integer, node)
        try:
            value = int(literal.value.replace("_", ""), 0)
        except ValueError:
            continue
        for new_value in (value + 1, value - 1):
            if new_value == 0 and id(literal) in dropped:
                continue
            new: cst.BaseExpression = cst.Integer(str(new_value)) if new_value >= 0 else \
                cst.UnaryOperation(operator=cst.Minus(), expression=cst.Integer(str(-new_value)))
            new = new.with_changes(lpar=literal.lpar, rpar=literal.rpar)
            yield _Edit("off-by-one", f"Change `{literal.value}` to `{new_value}`", literal, new)
    for bound in _bounds(at):
        if isinstance(bound, cst.BinaryOperation) and isinstance(bound.right, cst.Integer):
            continue  # `i - 1 + 1`: the literal's own mutants say it better
        text = at.module.code_for_node(bound).strip()
        for sign in ("+", "-"):
            yield _Edit("off-by-one", f"Change `{at.code(bound)}` to `{text} {sign} 1`"[:80],
                        bound, cst.parse_expression(f"{text} {sign} 1"))


def _bounds(at: _Line) -> Iterator[cst.BaseExpression]:
    """Arguments of range() and subscript indices and slice bounds that are not literals."""
    for node in at.nodes:
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) \
                and node.func.value == "range":
            for arg in node.args:
                if arg.keyword is None and not arg.star and isinstance(arg.value, _SHIFTABLE):
                    yield arg.value
        elif isinstance(node, cst.Index) and isinstance(node.value, _SHIFTABLE):
            yield node.value
        elif isinstance(node, cst.Slice):
            for part in (node.lower, node.upper):
                if isinstance(part, _SHIFTABLE):
                    yield part


def _boolean(at: _Line) -> Iterator[_Edit]:
    for node in at.of(cst.BooleanOperation):
        boolop = cast(cst.BooleanOperation, node)
        old = boolop.operator
        new_op: cst.BaseBooleanOp = (
            cst.Or(whitespace_before=old.whitespace_before, whitespace_after=old.whitespace_after)
            if isinstance(old, cst.And) else
            cst.And(whitespace_before=old.whitespace_before, whitespace_after=old.whitespace_after))
        yield _Edit("boolean", f"Change `{_op(old)}` to `{_op(new_op)}`", boolop,
                    boolop.with_changes(operator=new_op))


def _constant(at: _Line) -> Iterator[_Edit]:
    for node in at.of(cst.Name):
        name = cast(cst.Name, node)
        swap = {"True": "False", "False": "True"}.get(name.value)
        if swap is not None:
            yield _Edit("constant", f"Change `{name.value}` to `{swap}`", name,
                        name.with_changes(value=swap))


def _arithmetic(at: _Line) -> Iterator[_Edit]:
    for node in at.of(cst.BinaryOperation):
        binop = cast(cst.BinaryOperation, node)
        old = binop.operator
        for new_cls in _ARITH.get(type(old), ()):
            new_op = _respaced(old, new_cls)
            yield _Edit("arithmetic", f"Change `{_op(old)}` to `{_op(new_op)}`", binop,
                        binop.with_changes(operator=new_op))
    for node in at.of(cst.AugAssign):
        aug = cast(cst.AugAssign, node)
        old_aug = aug.operator
        for aug_cls in _AUG.get(type(old_aug), ()):
            new_aug = _respaced(old_aug, aug_cls)
            yield _Edit("arithmetic", f"Change `{_op(old_aug)}` to `{_op(new_aug)}`", aug,
                        aug.with_changes(operator=new_aug))
        # An accumulator that overwrites (`x = y`) or adds where it should set: both common.
        yield _Edit("arithmetic", f"Change `{_op(old_aug)}` to `=`", aug,
                    cst.Assign(targets=[cst.AssignTarget(target=aug.target)], value=aug.value))
    for node in at.of(cst.Assign):
        assign = cast(cst.Assign, node)
        target = assign.targets[0].target
        if (len(assign.targets) == 1 and not _empty(assign.value)
                and isinstance(target, cst.Name | cst.Attribute | cst.Subscript)):
            yield _Edit("arithmetic", "Change `=` to `+=`", assign,
                        cst.AugAssign(target=target, operator=cst.AddAssign(), value=assign.value))


def _empty(value: cst.BaseExpression) -> bool:
    """`x += []` or `x += 0` does nothing: the same as deleting the line, said worse."""
    if isinstance(value, cst.List | cst.Tuple | cst.Set | cst.Dict):
        return not value.elements
    if isinstance(value, cst.Integer | cst.Float):
        return value.evaluated_value == 0
    if isinstance(value, cst.SimpleString):
        return value.evaluated_value in ("", b"")
    return False


def _negation(at: _Line) -> Iterator[_Edit]:
    for node in at.of(cst.UnaryOperation):
        unary = cast(cst.UnaryOperation, node)
        if isinstance(unary.operator, cst.Not):
            yield _Edit("negation", f"Change `{at.code(unary)}` to `{at.code(unary.expression)}`",
                        unary, unary.expression.with_changes(lpar=unary.lpar, rpar=unary.rpar))
    for node in at.starting():
        test: cst.BaseExpression | None = None
        if isinstance(node, cst.If | cst.While):
            test = node.test
        elif isinstance(node, cst.Return) and isinstance(
                node.value, cst.Comparison | cst.BooleanOperation):
            test = node.value
        if test is None or test not in at.pos or at.pos[test].end.line != at.line:
            continue
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            continue  # removing the `not` above covers it
        text = at.module.code_for_node(test).strip()
        wrapped = f"not {text}" if isinstance(test, _ATOMIC) or test.lpar else f"not ({text})"
        yield _Edit("negation", f"Change `{at.code(test)}` to `{wrapped}`"[:80], test,
                    cst.parse_expression(wrapped))


def _builtin(at: _Line) -> Iterator[_Edit]:
    for node in at.of(cst.Call):
        func = cast(cst.Call, node).func
        if isinstance(func, cst.Name) and func.value in _BUILTINS:
            twin = _BUILTINS[func.value]
            yield _Edit("builtin", f"Change `{func.value}` to `{twin}`", func,
                        func.with_changes(value=twin))


def _swap(at: _Line) -> Iterator[_Edit]:
    for node in at.of(cst.Call):
        call = cast(cst.Call, node)
        args = list(call.args)
        for i in range(len(args) - 1):
            a, b = args[i], args[i + 1]
            if a.keyword or b.keyword or a.star or b.star:
                continue
            swapped = [*args[:i], a.with_changes(value=b.value), b.with_changes(value=a.value),
                       *args[i + 2:]]
            yield _Edit("swap", f"Swap `{at.code(a.value)}` and `{at.code(b.value)}` in "
                        f"`{at.code(call.func)}(...)`", call, call.with_changes(args=swapped))
    for node in at.of(cst.BinaryOperation):
        binop = cast(cst.BinaryOperation, node)
        if isinstance(binop.operator, _NON_COMMUTATIVE):
            yield _Edit("swap", f"Swap the operands of `{at.code(binop)}`", binop,
                        binop.with_changes(left=binop.right, right=binop.left))


def _variable(at: _Line) -> Iterator[_Edit]:
    function = _enclosing_function(at)
    if function is None:
        return
    names = _local_names(at, function)
    skip = _non_variable_names(at)
    for node in at.of(cst.Name):
        name = cast(cst.Name, node)
        if id(name) in skip or name.value not in names:
            continue
        if at.context.get(name) != ExpressionContext.LOAD:
            continue
        for other in names:
            if other != name.value:
                yield _Edit("variable", f"Change `{name.value}` to `{other}`", name,
                            name.with_changes(value=other))


def _enclosing_function(at: _Line) -> cst.FunctionDef | None:
    best: cst.FunctionDef | None = None
    for node, where in at.pos.items():
        if (isinstance(node, cst.FunctionDef) and where.start.line < at.line <= where.end.line
                and (best is None or where.start.line > at.pos[best].start.line)):
            best = node
    return best


def _local_names(at: _Line, function: cst.FunctionDef) -> list[str]:
    """Parameters, then names the function stores up to the line, in order of appearance."""
    names = [p.name.value for p in (*function.params.posonly_params, *function.params.params,
                                    *function.params.kwonly_params)]
    span = at.pos[function]
    stored = [(at.pos[n].start.line, at.pos[n].start.column, n.value)
              for n, c in at.context.items()
              if isinstance(n, cst.Name) and c == ExpressionContext.STORE and n in at.pos
              and span.start.line < at.pos[n].start.line <= at.line]
    names += [value for *_, value in sorted(stored)]
    return [n for n in dict.fromkeys(names) if n not in ("self", "cls")]


def _non_variable_names(at: _Line) -> set[int]:
    """Names that are not variable reads: keyword argument names and called functions."""
    skip: set[int] = set()
    for node in at.nodes:
        if isinstance(node, cst.Arg) and node.keyword is not None:
            skip.add(id(node.keyword))
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
            skip.add(id(node.func))
    return skip


def _delete(at: _Line) -> Iterator[_Edit]:
    for node in at.of(cst.SimpleStatementLine):
        stmt = cast(cst.SimpleStatementLine, node)
        small = stmt.body
        if any(isinstance(s, _NO_DELETE) for s in small) or _is_docstring(stmt):
            continue
        parent = at.parent.get(stmt)
        lone = isinstance(parent, cst.IndentedBlock | cst.Module) and len(parent.body) == 1
        text = at.code(stmt)
        if lone:
            yield _Edit("delete", f"Replace `{text}` with `pass`", stmt,
                        stmt.with_changes(body=[cst.Pass()]))
        else:
            yield _Edit("delete", f"Delete `{text}`", stmt, cst.RemoveFromParent())


def _is_docstring(stmt: cst.SimpleStatementLine) -> bool:
    return (len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, cst.SimpleString | cst.ConcatenatedString))


_GENERATORS: dict[str, Callable[[_Line], Iterator[_Edit]]] = {
    "comparison": _comparison,
    "off-by-one": _off_by_one,
    "boolean": _boolean,
    "constant": _constant,
    "arithmetic": _arithmetic,
    "negation": _negation,
    "builtin": _builtin,
    "swap": _swap,
    "variable": _variable,
    "delete": _delete,
}
