"""Expressions: parse and check once, compile to closures, evaluate many times.

The language is a small, safe subset of Python expression syntax: literals (numbers become
``Decimal``), names, arithmetic, comparisons, ``and``/``or``/``not``, ``in``, ``x if c else y``,
list literals and calls of whitelisted functions. Everything else is refused before it runs.

Two evaluators share one checked syntax tree and the helpers of :mod:`rules.functions`:

* :func:`compile_expression` turns the tree into nested Python closures once; evaluating it
  never looks at text or a syntax tree again. This is the production path.
* :class:`ReferenceInterpreter` is a hardened ``simpleeval`` interpreter walking the tree on each
  call. It is slow and exists as the reference the compiled path is tested against.
"""

from __future__ import annotations

import ast
import inspect
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import simpleeval

from rules import functions as fn
from rules.errors import EvaluationError, ExpressionError, RuleError
from rules.limits import DEFAULT_LIMITS, Limits

Env = dict[str, Any]
Compiled = Callable[[Env], Any]
# A resolver turns lookup("key", ...) into a function of the look-up arguments, at compile time.
LookupResolver = Callable[[str, int], Callable[..., Any]]

BINARY_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: fn.op_add,
    ast.Sub: fn.op_sub,
    ast.Mult: fn.op_mul,
    ast.Div: fn.op_div,
    ast.FloorDiv: fn.op_floordiv,
    ast.Mod: fn.op_mod,
    ast.Pow: fn.op_pow,
}
UNARY_OPERATORS: dict[type, Callable[[Any], Any]] = {
    ast.USub: fn.op_neg,
    ast.UAdd: fn.op_pos,
    ast.Not: fn.op_not,
}
COMPARE_OPERATORS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: fn.op_eq,
    ast.NotEq: fn.op_ne,
    ast.Lt: fn.op_lt,
    ast.LtE: fn.op_le,
    ast.Gt: fn.op_gt,
    ast.GtE: fn.op_ge,
    ast.In: fn.op_in,
    ast.NotIn: fn.op_not_in,
}
ALLOWED_NODES = (
    {ast.Expression, ast.Constant, ast.Name, ast.Load, ast.BinOp, ast.UnaryOp, ast.BoolOp}
    | {ast.And, ast.Or, ast.Compare, ast.IfExp, ast.Call, ast.List, ast.Tuple}
    | set(BINARY_OPERATORS)
    | set(UNARY_OPERATORS)
    | set(COMPARE_OPERATORS)
)
# Why each familiar construct is refused, for a clear message instead of "syntax error".
REFUSED_NODES = {
    ast.Attribute: "attribute_access",
    ast.Subscript: "subscript",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "comprehension",
    ast.NamedExpr: "assignment",
    ast.JoinedStr: "format_string",
    ast.FormattedValue: "format_string",
    ast.Starred: "starred",
    ast.Await: "statement",
    ast.Yield: "statement",
    ast.YieldFrom: "statement",
}
LITERAL_NAMES = {"true": True, "false": False, "null": None}
OPENING, CLOSING = "([{", ")]}"


@dataclass(frozen=True)
class CheckedExpression:
    """A parsed expression that passed every check; numeric literals already Decimal."""

    text: str
    tree: ast.Expression
    names: frozenset[str]
    lookups: tuple[str, ...] = ()


@dataclass
class CompiledExpression:
    """An expression compiled to a closure: call ``evaluate(env)`` as often as needed."""

    text: str
    evaluate: Compiled
    names: frozenset[str]
    lookups: tuple[str, ...] = ()
    constant: bool = False
    value: Any = None
    checked: CheckedExpression | None = field(default=None, repr=False)


def check_expression(
    text: str,
    known_names: Iterable[str] | None = None,
    *,
    where: str = "",
    limits: Limits = DEFAULT_LIMITS,
    allow_lookup: bool = False,
) -> CheckedExpression:
    """Parse ``text`` and refuse anything outside the whitelist or the limits.

    ``known_names`` (when given) are the only variable names allowed; an unknown name is refused
    here, at load time, with its position.
    """
    if not isinstance(text, str):
        raise ExpressionError("not_text", where, got=type(text).__name__)
    _check_text_limits(text, where, limits)
    tree = _parse(text, where)
    _check_tree_shape(tree, text, where, limits)
    names: set[str] = set()
    lookups: list[str] = []
    known = None if known_names is None else set(known_names)
    for node in ast.walk(tree):
        _check_node(node, text, where, limits, known, names, lookups, allow_lookup)
    return CheckedExpression(text, tree, frozenset(names), tuple(lookups))


def _check_text_limits(text: str, where: str, limits: Limits) -> None:
    if len(text) > limits.max_expression_length:
        raise ExpressionError(
            "too_long", where, length=len(text), limit=limits.max_expression_length
        )
    if "\x00" in text:
        raise ExpressionError("nul_byte", where, at=text.index("\x00") + 1)
    if not text.strip():
        raise ExpressionError("empty", where)
    # Bracket depth is checked on the text, before the parser can recurse on it.
    depth = deepest = 0
    for char in text:
        if char in OPENING:
            depth += 1
            deepest = max(deepest, depth)
        elif char in CLOSING:
            depth -= 1
    if deepest > limits.max_nesting_depth:
        raise ExpressionError("too_deep", where, limit=limits.max_nesting_depth)


def _parse(text: str, where: str) -> ast.Expression:
    source = text.strip()
    try:
        with warnings.catch_warnings():
            # "invalid decimal literal" and friends: the refusal below says it better.
            warnings.simplefilter("ignore")
            return ast.parse(source, mode="eval")
    except SyntaxError as error:
        code = "statement" if _is_statement(source) else "syntax_error"
        raise ExpressionError(code, where, at=error.offset or 0, text=_excerpt(text)) from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError("syntax_error", where, at=0, text=_excerpt(text)) from None


def _is_statement(source: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source, mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _check_tree_shape(tree: ast.AST, text: str, where: str, limits: Limits) -> None:
    """Refuse too many nodes or too deep a tree, walking iteratively (no recursion)."""
    count = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > limits.max_nodes:
            raise ExpressionError("too_complex", where, limit=limits.max_nodes)
        if depth > limits.max_nesting_depth:
            raise ExpressionError("too_deep", where, limit=limits.max_nesting_depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _check_node(
    node: ast.AST,
    text: str,
    where: str,
    limits: Limits,
    known: set[str] | None,
    names: set[str],
    lookups: list[str],
    allow_lookup: bool,
) -> None:
    kind = type(node)
    column = getattr(node, "col_offset", -1) + 1
    if kind not in ALLOWED_NODES:
        code = REFUSED_NODES.get(kind, "not_allowed")
        raise ExpressionError(code, where, construct=kind.__name__, at=column)
    if kind is ast.Constant:
        node.value = _literal_value(node, text, where, limits, column)
    elif kind is ast.Name:
        _check_name(node, where, known, names, column)
    elif kind is ast.Call:
        _check_call(node, where, lookups, allow_lookup, column)
    elif kind in (ast.List, ast.Tuple) and len(node.elts) > limits.max_list_length:
        raise ExpressionError("list_too_long", where, limit=limits.max_list_length)


def _literal_value(node: ast.Constant, text: str, where: str, limits: Limits, column: int) -> Any:
    value = node.value
    if isinstance(value, Decimal) or value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        if len(value) > limits.max_string_length:
            raise ExpressionError("string_too_long", where, limit=limits.max_string_length)
        return value
    if isinstance(value, int | float):
        # Read the digits as written so 0.1 stays exactly one tenth.
        source = ast.get_source_segment(text.strip(), node) or ""
        try:
            return Decimal(source.replace("_", ""))
        except ArithmeticError:
            if isinstance(value, int):
                return Decimal(value)
            raise ExpressionError("bad_number", where, at=column) from None
    raise ExpressionError("not_allowed", where, construct=type(value).__name__, at=column)


def _check_name(
    node: ast.Name, where: str, known: set[str] | None, names: set[str], column: int
) -> None:
    name = node.id
    if name.startswith("_"):
        raise ExpressionError("forbidden_name", where, name=name, at=column)
    if name in LITERAL_NAMES:
        return
    if name in fn.FUNCTIONS or name in fn.LOOKUP_FUNCTIONS:
        # A function name outside a call position would hand out a function object.
        if not getattr(node, "_is_callee", False):
            raise ExpressionError("function_as_value", where, name=name, at=column)
        return
    if known is not None and name not in known:
        raise ExpressionError("unknown_name", where, name=name, at=column)
    names.add(name)


def _check_call(
    node: ast.Call, where: str, lookups: list[str], allow_lookup: bool, column: int
) -> None:
    if isinstance(node.func, ast.Attribute):
        raise ExpressionError("attribute_access", where, at=column)
    if not isinstance(node.func, ast.Name):
        raise ExpressionError("call_not_allowed", where, at=column)
    name = node.func.id
    if name.startswith("_"):
        raise ExpressionError("forbidden_name", where, name=name, at=column)
    node.func._is_callee = True  # type: ignore[attr-defined]
    if node.keywords:
        raise ExpressionError("keyword_arguments", where, name=name, at=column)
    if name in fn.LOOKUP_FUNCTIONS:
        if not allow_lookup:
            raise ExpressionError("lookup_unavailable", where, at=column)
        first = node.args[0] if node.args else None
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            raise ExpressionError("lookup_key_literal", where, at=column)
        lookups.append(first.value)
        return
    function = fn.FUNCTIONS.get(name)
    if function is None:
        raise ExpressionError("unknown_function", where, name=name, at=column)
    try:
        inspect.signature(function).bind(*node.args)
    except TypeError:
        raise ExpressionError(
            "argument_count", where, function=name, got=len(node.args), column=column
        ) from None


def _excerpt(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


# --- compilation -----------------------------------------------------------------------------


def compile_expression(
    text: str,
    known_names: Iterable[str] | None = None,
    *,
    where: str = "",
    limits: Limits = DEFAULT_LIMITS,
    resolver: LookupResolver | None = None,
) -> CompiledExpression:
    """Check ``text`` and compile it to a closure ``env -> value``.

    An expression without variables is evaluated once here (constant folding); if that fails
    (``1/0``) the expression is refused at load time instead of at every evaluation.
    """
    checked = check_expression(
        text, known_names, where=where, limits=limits, allow_lookup=resolver is not None
    )
    return compile_checked(checked, where=where, resolver=resolver)


def compile_checked(
    checked: CheckedExpression, *, where: str = "", resolver: LookupResolver | None = None
) -> CompiledExpression:
    evaluate = _Compiler(resolver).compile(checked.tree.body)
    compiled = CompiledExpression(
        checked.text, evaluate, checked.names, checked.lookups, checked=checked
    )
    if not checked.names and not checked.lookups:
        try:
            value = evaluate({})
        except RuleError as error:
            raise ExpressionError(
                "constant_fails",
                where,
                reason=error.message("en"),
                reason_zh=error.message("zh"),
                cause=error.code,
            ) from None
        compiled.constant, compiled.value = True, value
        compiled.evaluate = _constant(value)
    return compiled


def _constant(value: Any) -> Compiled:
    def constant(env: Env) -> Any:
        return value

    return constant


class _Compiler:
    """Turns a checked syntax tree into closures holding only whitelisted operations."""

    def __init__(self, resolver: LookupResolver | None) -> None:
        self.resolver = resolver

    def compile(self, node: ast.AST) -> Compiled:
        method = getattr(self, "_" + type(node).__name__.lower())
        return method(node)

    def _constant(self, node: ast.Constant) -> Compiled:
        return _constant(node.value)

    def _name(self, node: ast.Name) -> Compiled:
        name = node.id
        if name in LITERAL_NAMES:
            return _constant(LITERAL_NAMES[name])

        def read_name(env: Env) -> Any:
            try:
                return env[name]
            except KeyError:
                raise EvaluationError("unknown_name", name=name, at=0) from None

        return read_name

    def _binop(self, node: ast.BinOp) -> Compiled:
        operator = BINARY_OPERATORS[type(node.op)]
        left, right = self.compile(node.left), self.compile(node.right)

        def binary(env: Env) -> Any:
            return operator(left(env), right(env))

        return binary

    def _unaryop(self, node: ast.UnaryOp) -> Compiled:
        operator = UNARY_OPERATORS[type(node.op)]
        operand = self.compile(node.operand)

        def unary(env: Env) -> Any:
            return operator(operand(env))

        return unary

    def _boolop(self, node: ast.BoolOp) -> Compiled:
        parts = [self.compile(value) for value in node.values]
        as_bool = fn.as_bool
        if isinstance(node.op, ast.And):

            def all_true(env: Env) -> bool:
                return all(as_bool(part(env), "and") for part in parts)

            return all_true

        def any_true(env: Env) -> bool:
            return any(as_bool(part(env), "or") for part in parts)

        return any_true

    def _compare(self, node: ast.Compare) -> Compiled:
        left = self.compile(node.left)
        operators = [COMPARE_OPERATORS[type(op)] for op in node.ops]
        rights = [self.compile(value) for value in node.comparators]
        if len(operators) == 1:
            operator, right = operators[0], rights[0]

            def compare_one(env: Env) -> bool:
                return operator(left(env), right(env))

            return compare_one
        steps = list(zip(operators, rights, strict=True))

        def compare_chain(env: Env) -> bool:
            current = left(env)
            for operator, right in steps:
                following = right(env)
                if not operator(current, following):
                    return False
                current = following
            return True

        return compare_chain

    def _ifexp(self, node: ast.IfExp) -> Compiled:
        test, body, orelse = (
            self.compile(node.test),
            self.compile(node.body),
            self.compile(node.orelse),
        )
        as_bool = fn.as_bool

        def choose(env: Env) -> Any:
            return body(env) if as_bool(test(env)) else orelse(env)

        return choose

    def _list(self, node: ast.List | ast.Tuple) -> Compiled:
        items = [self.compile(item) for item in node.elts]

        def build_list(env: Env) -> list:
            return [item(env) for item in items]

        return build_list

    _tuple = _list

    def _call(self, node: ast.Call) -> Compiled:
        name = node.func.id
        if name in fn.LOOKUP_FUNCTIONS:
            function = self.resolver(node.args[0].value, len(node.args) - 1)
            args = [self.compile(arg) for arg in node.args[1:]]
        else:
            function = fn.FUNCTIONS[name]
            args = [self.compile(arg) for arg in node.args]
        if len(args) == 1:
            (only,) = args

            def call_one(env: Env) -> Any:
                return function(only(env))

            return call_one
        if len(args) == 2:
            first, second = args

            def call_two(env: Env) -> Any:
                return function(first(env), second(env))

            return call_two

        def call_many(env: Env) -> Any:
            return function(*[arg(env) for arg in args])

        return call_many


# --- the reference interpreter ---------------------------------------------------------------


class ReferenceInterpreter(simpleeval.SimpleEval):
    """simpleeval, hardened: only whitelisted nodes, our operators and functions, a deadline.

    It evaluates the same checked tree the compiler uses, walking it on every call. Keep it as
    the executable specification of the language; production code uses the compiled path.
    """

    def __init__(
        self,
        names: Env | None = None,
        limits: Limits = DEFAULT_LIMITS,
        resolver: LookupResolver | None = None,
    ) -> None:
        super().__init__(operators={}, functions=dict(fn.FUNCTIONS), names=dict(names or {}))
        self.limits = limits
        self.resolver = resolver
        self.deadline = 0.0
        self.nodes = {
            ast.Expression: lambda node: self._eval(node.body),
            ast.Constant: lambda node: node.value,
            ast.Name: self._eval_name,
            ast.BinOp: self._eval_binop,
            ast.UnaryOp: self._eval_unaryop,
            ast.BoolOp: self._eval_boolop,
            ast.Compare: self._eval_compare,
            ast.IfExp: self._eval_ifexp,
            ast.Call: self._eval_call,
            ast.List: self._eval_list,
            ast.Tuple: self._eval_list,
        }

    def evaluate(self, text_or_checked: str | CheckedExpression, names: Env | None = None) -> Any:
        checked = text_or_checked
        if isinstance(checked, str):
            checked = check_expression(
                checked, limits=self.limits, allow_lookup=self.resolver is not None
            )
        if names is not None:
            self.names = dict(names)
        self.deadline = time.monotonic() + self.limits.max_eval_seconds
        return self._eval(checked.tree)

    def _eval(self, node: ast.AST) -> Any:
        if time.monotonic() > self.deadline:
            raise EvaluationError("too_slow", limit=self.limits.max_eval_seconds)
        handler = self.nodes.get(type(node))
        if handler is None:
            raise ExpressionError("not_allowed", construct=type(node).__name__, at=0)
        return handler(node)

    def _eval_name(self, node: ast.Name) -> Any:
        if node.id in LITERAL_NAMES:
            return LITERAL_NAMES[node.id]
        try:
            return self.names[node.id]
        except KeyError:
            raise EvaluationError("unknown_name", name=node.id, at=0) from None

    def _eval_binop(self, node: ast.BinOp) -> Any:
        return BINARY_OPERATORS[type(node.op)](self._eval(node.left), self._eval(node.right))

    def _eval_unaryop(self, node: ast.UnaryOp) -> Any:
        return UNARY_OPERATORS[type(node.op)](self._eval(node.operand))

    def _eval_boolop(self, node: ast.BoolOp) -> bool:
        is_and = isinstance(node.op, ast.And)
        for value in node.values:
            flag = fn.as_bool(self._eval(value), "and" if is_and else "or")
            if flag is not is_and:
                return flag
        return is_and

    def _eval_compare(self, node: ast.Compare) -> bool:
        current = self._eval(node.left)
        for operation, comparator in zip(node.ops, node.comparators, strict=True):
            following = self._eval(comparator)
            if not COMPARE_OPERATORS[type(operation)](current, following):
                return False
            current = following
        return True

    def _eval_ifexp(self, node: ast.IfExp) -> Any:
        test = fn.as_bool(self._eval(node.test))
        return self._eval(node.body) if test else self._eval(node.orelse)

    def _eval_call(self, node: ast.Call) -> Any:
        name = node.func.id
        if name in fn.LOOKUP_FUNCTIONS:
            function = self.resolver(node.args[0].value, len(node.args) - 1)
            return function(*[self._eval(arg) for arg in node.args[1:]])
        return fn.FUNCTIONS[name](*[self._eval(arg) for arg in node.args])

    def _eval_list(self, node: ast.List | ast.Tuple) -> list:
        return [self._eval(item) for item in node.elts]


def interpret(text: str, names: Env | None = None, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Evaluate ``text`` with the reference interpreter (slow; for tests and comparison)."""
    return ReferenceInterpreter(names, limits).evaluate(text)


def evaluate_expression(text: str, names: Env | None = None) -> Any:
    """Compile (cached) and evaluate ``text`` once over ``names``; convenient in scripts."""
    return _compile_cached(text)(names or {})


_EXPRESSION_CACHE: dict[str, Compiled] = {}


def _compile_cached(text: str) -> Compiled:
    compiled = _EXPRESSION_CACHE.get(text)
    if compiled is None:
        if len(_EXPRESSION_CACHE) > 2048:
            _EXPRESSION_CACHE.clear()
        compiled = compile_expression(text).evaluate
        _EXPRESSION_CACHE[text] = compiled
    return compiled
