"""The worked examples of docs/rules.md as documents, shared by the tests."""

from __future__ import annotations

SCHEMES = {
    "A": ["-0.30", "-0.40", "-0.50", "0", "0.10", "0.30"],
    "B": ["-0.25", "-0.35", "-0.45", "0", "0.10", "0.30"],
    "C": ["-0.20", "-0.30", "-0.40", "0", "0.10", "0.30"],
    "D": ["-0.15", "-0.25", "-0.35", "0", "0.10", "0.30"],
    "E": ["-0.10", "-0.20", "-0.30", "0", "0.10", "0.30"],
}
RECORDS = ["A1", "A2", "A3", "A4", "A5", "A6"]


def floating_rate_table() -> dict:
    """交强险 floating rate by region scheme (A–E) and accident record (A1–A6), unique."""
    rules = [
        {"when": {"scheme": scheme, "record": record}, "then": {"floating_rate": rate}}
        for scheme, rates in SCHEMES.items()
        for record, rate in zip(RECORDS, rates, strict=True)
    ]
    return {
        "kind": "decision_table",
        "key": "jqx_floating_rate",
        "version": 1,
        "body": {
            "title": "交强险费率浮动",
            "hit_policy": "unique",
            "inputs": [
                {"name": "scheme", "label": "地区方案", "type": "enum", "values": list(SCHEMES)},
                {"name": "record", "label": "浮动因素", "type": "enum", "values": RECORDS},
            ],
            "outputs": [{"name": "floating_rate", "label": "浮动比率", "type": "decimal"}],
            "rules": rules,
            "tests": [
                {
                    "name": "北京 两年无事故",
                    "input": {"scheme": "D", "record": "A2"},
                    "expected": {"floating_rate": "-0.25"},
                },
                {
                    "name": "海南 死亡事故",
                    "input": {"scheme": "A", "record": "A6"},
                    "expected": {"floating_rate": "0.30"},
                },
            ],
        },
    }


def region_scheme_table() -> dict:
    """Province -> region scheme; every province not listed is scheme E (hit policy first)."""
    return {
        "kind": "decision_table",
        "key": "jqx_region_scheme",
        "version": 1,
        "body": {
            "title": "交强险地区方案",
            "hit_policy": "first",
            "inputs": [{"name": "province", "label": "省份", "type": "string"}],
            "outputs": [
                {"name": "scheme", "label": "地区方案", "type": "enum", "values": list(SCHEMES)}
            ],
            "rules": [
                {"when": ['"内蒙古","海南","青海","西藏"'], "then": ["A"]},
                {"when": ['"陕西","云南","广西"'], "then": ["B"]},
                {"when": ['"甘肃","吉林","山西","黑龙江","新疆"'], "then": ["C"]},
                {"when": ['"北京","天津","河北","宁夏"'], "then": ["D"]},
                {"when": ["-"], "then": ["E"], "description": "其他省份及计划单列市"},
            ],
        },
    }


def base_premium_table() -> dict:
    """交强险 base premium of common classes; seat bands read as half-open intervals."""
    classes = ["家庭自用汽车", "企业非营业客车", "机关非营业客车"]
    rows = [
        ("家庭自用汽车", "< 6", "950"),
        ("家庭自用汽车", ">= 6", "1100"),
        ("企业非营业客车", "< 6", "1000"),
        ("企业非营业客车", "[6..10)", "1130"),
        ("企业非营业客车", "[10..20)", "1220"),
        ("企业非营业客车", ">= 20", "1270"),
        ("机关非营业客车", "< 6", "950"),
        ("机关非营业客车", "[6..10)", "1070"),
        ("机关非营业客车", "[10..20)", "1140"),
        ("机关非营业客车", ">= 20", "1320"),
    ]
    return {
        "kind": "decision_table",
        "key": "jqx_base_premium",
        "version": 1,
        "body": {
            "title": "交强险基础保费",
            "hit_policy": "unique",
            "inputs": [
                {"name": "vehicle_class", "label": "车辆种类", "type": "enum", "values": classes},
                {"name": "seats", "label": "座位数", "type": "integer", "min": 1, "max": 80},
            ],
            "outputs": [{"name": "base_premium", "label": "基础保费", "type": "decimal"}],
            "rules": [
                {"when": {"vehicle_class": cls, "seats": seats}, "then": {"base_premium": base}}
                for cls, seats, base in rows
            ],
        },
    }


def jqx_premium_rule_set() -> dict:
    """交强险 premium = base premium × (1 + floating rate), rounded half-up to the cent."""
    return {
        "kind": "rule_set",
        "key": "jqx_premium",
        "version": 2,
        "body": {
            "title": "交强险保费",
            "inputs": [
                {"name": "province", "label": "省份", "type": "string"},
                {"name": "record", "label": "浮动因素", "type": "enum", "values": RECORDS},
                {
                    "name": "vehicle_class",
                    "label": "车辆种类",
                    "type": "enum",
                    "values": ["家庭自用汽车", "企业非营业客车", "机关非营业客车"],
                },
                {"name": "seats", "label": "座位数", "type": "integer", "min": 1, "max": 80},
            ],
            "steps": [
                {"name": "scheme", "label": "地区方案", "table": "jqx_region_scheme"},
                {"name": "base_premium", "label": "基础保费", "table": "jqx_base_premium"},
                {"name": "floating_rate", "label": "浮动比率", "table": "jqx_floating_rate"},
                {
                    "name": "premium",
                    "label": "交强险保费",
                    "expression": "round_half_up(base_premium * (1 + floating_rate), 2)",
                },
            ],
            "outputs": ["scheme", "floating_rate", "premium"],
            "tests": [
                {
                    "name": "北京 家用5座 A2",
                    "input": {
                        "province": "北京",
                        "record": "A2",
                        "vehicle_class": "家庭自用汽车",
                        "seats": 5,
                    },
                    "expected": {"scheme": "D", "premium": "712.50"},
                },
                {
                    "name": "上海 家用7座 A4",
                    "input": {
                        "province": "上海",
                        "record": "A4",
                        "vehicle_class": "家庭自用汽车",
                        "seats": 7,
                    },
                    "expected": {"premium": "1100.00"},
                },
            ],
        },
    }


def fee_agreement_table() -> dict:
    """A fee agreement: carrier × product × business type -> fee type, basis and rate."""
    return {
        "kind": "decision_table",
        "key": "fee_agreement_picc_2026",
        "version": 3,
        "body": {
            "title": "人保 2026 手续费协议",
            "hit_policy": "first",
            "inputs": [
                {
                    "name": "product",
                    "label": "险种",
                    "type": "enum",
                    "values": ["交强险", "商业险", "驾乘意外"],
                },
                {
                    "name": "business_type",
                    "label": "业务类型",
                    "type": "enum",
                    "values": ["新保", "续保", "转保", "联单第一联", "联单其他联"],
                },
                {"name": "vehicle_age", "label": "车龄", "type": "integer", "min": 0, "max": 50},
            ],
            "outputs": [
                {"name": "fee_type", "label": "费用类型", "type": "string"},
                {"name": "tax_inclusive", "label": "按含税保费", "type": "boolean"},
                {"name": "rate", "label": "费率", "type": "decimal"},
            ],
            "rules": [
                {"when": ["交强险", "-", "-"], "then": ['"手续费"', True, "0.04"]},
                {
                    "when": ["商业险", '"新保","转保"', "[0..3)"],
                    "then": ['"手续费"', False, "0.15"],
                },
                {"when": ["商业险", '"新保","转保"', ">= 3"], "then": ['"手续费"', False, "0.12"]},
                {"when": ["商业险", "not(新保, 转保)", "-"], "then": ['"手续费"', False, "0.10"]},
                {"when": ["驾乘意外", "-", "-"], "then": ['"服务费"', True, "0.30"]},
            ],
            "tests": [
                {
                    "name": "交强险 950 × 4%",
                    "input": {"product": "交强险", "business_type": "新保", "vehicle_age": 0},
                    "expected": {"fee_type": "手续费", "rate": "0.04"},
                },
                {
                    "name": "商业险 转保 旧车",
                    "input": {"product": "商业险", "business_type": "转保", "vehicle_age": 5},
                    "expected": {"rate": "0.12"},
                },
            ],
        },
    }


def fee_rule_set() -> dict:
    """Fee of one policy line: rate from the agreement, basis with or without the 6% VAT."""
    return {
        "kind": "rule_set",
        "key": "fee_of_policy_line",
        "version": 1,
        "body": {
            "title": "保单手续费",
            "inputs": [
                {"name": "product", "type": "enum", "values": ["交强险", "商业险", "驾乘意外"]},
                {
                    "name": "business_type",
                    "type": "enum",
                    "values": ["新保", "续保", "转保", "联单第一联", "联单其他联"],
                },
                {"name": "vehicle_age", "type": "integer", "min": 0, "max": 50},
                {"name": "premium", "label": "含税保费", "type": "decimal"},
            ],
            "steps": [
                {"name": "agreement", "label": "协议条款", "table": "fee_agreement_picc_2026"},
                {
                    "name": "premium_excl_tax",
                    "label": "不含税保费",
                    "expression": "round_half_up(premium / 1.06, 2)",
                },
                {
                    "name": "basis",
                    "label": "计费基数",
                    "expression": "premium if tax_inclusive else premium_excl_tax",
                },
                {
                    "name": "fee",
                    "label": "手续费金额",
                    "expression": "round_half_up(basis * rate, 2)",
                },
            ],
            "outputs": ["fee_type", "rate", "premium_excl_tax", "fee"],
            "tests": [
                {
                    "name": "交强险 950.00 × 4% = 38.00",
                    "input": {
                        "product": "交强险",
                        "business_type": "新保",
                        "vehicle_age": 0,
                        "premium": "950.00",
                    },
                    "expected": {"fee": "38.00"},
                },
                {
                    "name": "商业险 22770.41 含税 -> 21481.52 不含税",
                    "input": {
                        "product": "商业险",
                        "business_type": "续保",
                        "vehicle_age": 4,
                        "premium": "22770.41",
                    },
                    "expected": {"premium_excl_tax": "21481.52", "fee": "2148.15"},
                },
            ],
        },
    }


def all_documents() -> list[dict]:
    return [
        floating_rate_table(),
        region_scheme_table(),
        base_premium_table(),
        jqx_premium_rule_set(),
        fee_agreement_table(),
        fee_rule_set(),
    ]
