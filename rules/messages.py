"""Every message of the engine, in Chinese and English, keyed by a stable code.

Errors, analysis findings and trace lines are rendered from here, so the console, the CLI and
tests all say the same thing. Parameters are filled with ``str.format``; a missing parameter
leaves its placeholder visible rather than failing.
"""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, tuple[str, str]] = {
    # code: (中文, English)
    # expressions refused before running
    "not_text": ("表达式必须是文本，收到 {got}", "an expression must be text, got {got}"),
    "too_long": (
        "表达式太长（{length} 字符，上限 {limit}）",
        "expression too long ({length} characters, limit {limit})",
    ),
    "nul_byte": ("第 {at} 个字符是 NUL 字符", "NUL byte at character {at}"),
    "empty": ("表达式为空", "empty expression"),
    "too_deep": ("嵌套太深（上限 {limit} 层）", "nested too deeply (limit {limit} levels)"),
    "too_complex": (
        "表达式太复杂（上限 {limit} 个节点）",
        "expression too complex (limit {limit} nodes)",
    ),
    "syntax_error": (
        "语法错误，第 {at} 个字符附近：{text}",
        "syntax error near character {at}: {text}",
    ),
    "statement": (
        "不允许语句（赋值、import、def 等），只能写表达式",
        "statements (assignment, import, def, ...) are not allowed, only expressions",
    ),
    "attribute_access": (
        "第 {at} 个字符：不允许访问属性（.name）",
        "at character {at}: attribute access (.name) is not allowed",
    ),
    "subscript": (
        "第 {at} 个字符：不允许下标访问（x[...]）",
        "at character {at}: subscripts (x[...]) are not allowed",
    ),
    "lambda": ("第 {at} 个字符：不允许 lambda", "at character {at}: lambda is not allowed"),
    "comprehension": (
        "第 {at} 个字符：不允许推导式或生成器",
        "at character {at}: comprehensions and generators are not allowed",
    ),
    "assignment": ("第 {at} 个字符：不允许赋值", "at character {at}: assignment is not allowed"),
    "format_string": (
        "第 {at} 个字符：不允许格式化字符串",
        "at character {at}: format strings are not allowed",
    ),
    "starred": ("第 {at} 个字符：不允许 * 展开", "at character {at}: * unpacking is not allowed"),
    "not_allowed": (
        "第 {at} 个字符：不允许 {construct}",
        "at character {at}: {construct} is not allowed",
    ),
    "string_too_long": (
        "文本太长（上限 {limit} 字符）",
        "text too long (limit {limit} characters)",
    ),
    "list_too_long": ("列表太长（上限 {limit} 项）", "list too long (limit {limit} items)"),
    "bad_number": ("第 {at} 个字符：无法读取的数字", "at character {at}: unreadable number"),
    "forbidden_name": (
        "第 {at} 个字符：名称 {name} 以下划线开头，不允许",
        "at character {at}: name {name} starts with an underscore and is not allowed",
    ),
    "function_as_value": (
        "第 {at} 个字符：函数 {name} 只能调用，不能当作值",
        "at character {at}: function {name} can only be called, not used as a value",
    ),
    "unknown_name": (
        "未知的名称 {name}（未声明为输入或中间值）",
        "unknown name {name} (not a declared input or intermediate value)",
    ),
    "call_not_allowed": (
        "第 {at} 个字符：只能调用白名单中的函数",
        "at character {at}: only whitelisted functions can be called",
    ),
    "keyword_arguments": (
        "第 {at} 个字符：函数 {name} 不接受关键字参数",
        "at character {at}: function {name} takes no keyword arguments",
    ),
    "unknown_function": (
        "第 {at} 个字符：未知函数 {name}",
        "at character {at}: unknown function {name}",
    ),
    "argument_count": (
        "函数 {function} 的参数个数不对（给了 {got} 个）",
        "function {function} called with a wrong number of arguments ({got})",
    ),
    "lookup_unavailable": (
        "这里不能使用 lookup（没有可查的表）",
        "lookup is not available here (no tables to look in)",
    ),
    "lookup_key_literal": (
        "lookup 的第一个参数必须是表的键（文本常量）",
        "the first argument of lookup must be a table key (a text literal)",
    ),
    "lookup_unknown_table": (
        "lookup 引用的表 {key} 不存在",
        "lookup refers to an unknown table {key}",
    ),
    "lookup_bad_arity": (
        "lookup 表 {key} 需要 {expected} 个参数，给了 {got} 个",
        "lookup of table {key} needs {expected} arguments, got {got}",
    ),
    "lookup_multi_output": (
        "lookup 表 {key} 有多个输出，请在规则集中用步骤调用",
        "lookup of table {key}: it has several outputs; use a rule-set step",
    ),
    "constant_fails": ("常量表达式计算失败：{reason_zh}", "constant expression fails: {reason}"),
    # evaluation errors
    "type_error": (
        "运算 {operation} 需要 {expected}，得到 {got}",
        "operation {operation} needs {expected}, got {got}",
    ),
    "argument_out_of_range": (
        "{operation} 的参数超出范围 [{low}, {high}] 或不是整数",
        "argument of {operation} is not a whole number in [{low}, {high}]",
    ),
    "division_by_zero": ("除数为零", "division by zero"),
    "number_too_large": ("{operation} 的结果数值过大", "result of {operation} is too large"),
    "invalid_operation": ("无效的数值运算 {operation}", "invalid numeric operation {operation}"),
    "exponent_too_large": (
        "指数太大（绝对值上限 {limit}）",
        "exponent too large (absolute limit {limit})",
    ),
    "invalid_date": ("无效日期 {value}", "invalid date {value}"),
    "too_slow": ("计算超时（上限 {limit} 秒）", "evaluation took too long (limit {limit} s)"),
    "input_missing": ("缺少输入 {input}", "missing input {input}"),
    "input_bad_type": (
        "输入 {input} 的值 {value} 不是 {type}",
        "input {input}: value {value} is not a {type}",
    ),
    "input_not_allowed": (
        "输入 {input} 的值 {value} 不在允许值 {allowed} 中",
        "input {input}: value {value} is not one of {allowed}",
    ),
    "input_too_long": ("输入 {input} 的文本太长", "input {input}: text too long"),
    "input_out_of_range": (
        "输入 {input} 的值 {value} 超出范围 [{min}, {max}]",
        "input {input}: value {value} is outside [{min}, {max}]",
    ),
    "not_unique": (
        "命中策略 unique 要求只命中一行，实际命中第 {rows} 行",
        "hit policy unique needs exactly one matching row; rows {rows} matched",
    ),
    "any_conflict": (
        "命中策略 any 命中的第 {rows} 行输出不同",
        "hit policy any: matching rows {rows} give different outputs",
    ),
    "cell_not_boolean": (
        "条件单元格的结果不是 true/false",
        "a condition cell did not give true/false",
    ),
    "step_failed": ("步骤 {step} 失败：{reason}", "step {step} failed: {reason}"),
    # documents and cells
    "document_invalid": ("文档 {key} 无法加载", "document {key} cannot be loaded"),
    "bad_document": ("文档结构错误：{detail}", "malformed document: {detail}"),
    "bad_cell": ("无法读取的单元格 {text}", "unreadable cell {text}"),
    "bad_range": ("区间 {text} 的下限大于上限", "range {text}: lower bound above upper bound"),
    "cell_type_mismatch": (
        "单元格值 {value} 与输入类型 {type} 不符",
        "cell value {value} does not fit input type {type}",
    ),
    "cell_not_allowed": (
        "单元格值 {value} 不在输入的允许值 {allowed} 中",
        "cell value {value} is not one of the input's allowed values {allowed}",
    ),
    "range_on_unordered": (
        "类型为 {type} 的输入不能用区间或大小比较",
        "an input of type {type} cannot use ranges or comparisons",
    ),
    "output_type_mismatch": (
        "输出值 {value} 与输出类型 {type} 不符",
        "output value {value} does not fit output type {type}",
    ),
    "unknown_output": ("未声明的输出 {name}", "undeclared output {name}"),
    "unknown_input": ("未声明的输入 {name}", "undeclared input {name}"),
    "duplicate_name": ("名称 {name} 重复", "duplicate name {name}"),
    "unknown_table": ("引用的表或规则集 {key} 不存在", "unknown table or rule set {key}"),
    "dependency_cycle": (
        "文档之间循环引用：{keys}",
        "documents refer to each other in a cycle: {keys}",
    ),
    "aggregate_needs_one_output": (
        "命中策略 {policy} 需要恰好一个输出",
        "hit policy {policy} needs exactly one output",
    ),
    "aggregate_needs_number": (
        "命中策略 {policy} 的输出必须是数字",
        "hit policy {policy} needs a numeric output",
    ),
    "priority_needs_values": (
        "命中策略 {policy} 需要输出声明按优先级排列的 values",
        "hit policy {policy} needs an output with values listed in priority order",
    ),
    # analysis findings
    "overlap": (
        "与第 {other} 行重叠（例如输入 {example}）",
        "overlaps row {other} (for example input {example})",
    ),
    "overlap_conflict": (
        "与第 {other} 行重叠且输出不同（例如输入 {example}）",
        "overlaps row {other} with different outputs (for example input {example})",
    ),
    "unreachable": (
        "永远不会命中：前面的行已覆盖它的全部输入",
        "can never fire: earlier rows cover all its inputs",
    ),
    "unreachable_priority": (
        "永远不会胜出：优先级更高的行覆盖它的全部输入",
        "can never win: rows of higher priority cover all its inputs",
    ),
    "gap": (
        "没有任何行覆盖的输入组合，例如 {example}",
        "no row covers some inputs, for example {example}",
    ),
    "analysis_incomplete": (
        "分析过于复杂，已停止（{what}）",
        "analysis stopped, too complex ({what})",
    ),
    "dynamic_cells": (
        "含有读取其他输入的表达式单元格，不参与重叠、可达和缺口分析",
        "has expression cells reading other inputs; "
        "left out of overlap, reachability and gap analysis",
    ),
    # test cases
    "case_failed": (
        "用例 {case} 失败：期望 {expected}，实际 {actual}",
        "case {case} failed: expected {expected}, got {actual}",
    ),
    "case_error": ("用例 {case} 出错：{reason}", "case {case} raised an error: {reason}"),
    # JDM
    "jdm_refused": ("无法转换为 GoRules JDM：{reason}", "cannot convert to GoRules JDM: {reason}"),
    "jdm_import_refused": ("无法导入 GoRules JDM：{reason}", "cannot import GoRules JDM: {reason}"),
}


class _Lenient(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_message(code: str, lang: str, params: dict[str, Any]) -> str:
    """The message ``code`` in ``lang`` ("zh" or "en"), with ``params`` filled in."""
    pair = MESSAGES.get(code)
    if pair is None:
        return f"{code} {params}" if params else code
    template = pair[0] if lang.startswith("zh") else pair[1]
    values = _Lenient({key: _show(value) for key, value in params.items()})
    return template.format_map(values)


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)
