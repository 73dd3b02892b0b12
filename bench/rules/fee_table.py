"""Data generator of the rules benchmark: a 60-row fee table and random policies.

Deterministic (fixed seed) so every run measures the same table and the same policies.
"""

from __future__ import annotations

import random

BUSINESS_TYPES = ["新保", "续保", "转保", "联单第一联", "联单其他联"]
PRODUCTS = ["交强险", "商业险", "驾乘意外"]
CARRIERS = ["PICC", "PINGAN", "CPIC", "CHINALIFE", "CIC", "DADI", "SUNSHINE", "TAIPING"]
AGE_BANDS = ["[0..1)", "[1..3)", "[3..6)", "[6..10)", ">= 10", "-"]
NCD_BANDS = ["< 0.7", "[0.7..1)", "[1..1.2)", ">= 1.2", "-"]
ROWS = 60


def _cell_of(values: list[str], rng: random.Random) -> str:
    """A cell of an enum column: any, one value, or a short list (quoted, as the syntax asks)."""
    pick = rng.random()
    if pick < 0.25:
        return "-"
    if pick < 0.75:
        return f'"{rng.choice(values)}"'
    chosen = rng.sample(values, 2)
    return ", ".join(f'"{value}"' for value in chosen)


def fee_table_document(seed: int = 7) -> dict:
    """A fee agreement table: business type, product, carrier, vehicle age, NCD -> fee rate."""
    rng = random.Random(seed)
    rules = []
    for number in range(1, ROWS):
        rate = rng.choice(["0.02", "0.03", "0.04", "0.05", "0.08", "0.10", "0.12", "0.15"])
        rules.append(
            {
                "id": f"r{number}",
                "when": {
                    "business_type": _cell_of(BUSINESS_TYPES, rng),
                    "product": _cell_of(PRODUCTS, rng),
                    "carrier": _cell_of(CARRIERS, rng),
                    "vehicle_age": rng.choice(AGE_BANDS),
                    "ncd": rng.choice(NCD_BANDS),
                },
                "then": {"fee_rate": rate},
            }
        )
    rules.append({"id": "default", "description": "兜底", "when": {}, "then": {"fee_rate": "0.01"}})
    return {
        "kind": "decision_table",
        "key": "bench_fee",
        "version": 1,
        "body": {
            "title": "手续费协议（基准测试）",
            "hit_policy": "first",
            "inputs": [
                {
                    "name": "business_type",
                    "label": "业务类型",
                    "type": "enum",
                    "values": BUSINESS_TYPES,
                },
                {"name": "product", "label": "险种", "type": "enum", "values": PRODUCTS},
                {"name": "carrier", "label": "保险公司", "type": "enum", "values": CARRIERS},
                {"name": "vehicle_age", "label": "车龄", "type": "integer"},
                {"name": "ncd", "label": "NCD系数", "type": "decimal"},
            ],
            "outputs": [{"name": "fee_rate", "label": "手续费率", "type": "decimal"}],
            "rules": rules,
        },
    }


def policies(count: int, seed: int = 11) -> list[dict]:
    """Random policies with the plain JSON-like values both engines receive."""
    rng = random.Random(seed)
    ncd_values = [0.5, 0.6, 0.7, 0.8, 1.0, 1.2, 1.4, 1.6, 2.0]
    return [
        {
            "business_type": rng.choice(BUSINESS_TYPES),
            "product": rng.choice(PRODUCTS),
            "carrier": rng.choice(CARRIERS),
            "vehicle_age": rng.randrange(0, 15),
            "ncd": rng.choice(ncd_values),
        }
        for _ in range(count)
    ]
