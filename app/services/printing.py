"""The service contract 服务合同 as a printable Chinese PDF (app/printing: the same CJK font,
styles and grid as the 电子保单)."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from app.printing import cjk_font, grid, money, paragraph_styles
from app.services.models import ServiceContract


def render_contract_pdf(contract: ServiceContract, catalogue_names: dict[str, str]) -> bytes:
    font = cjk_font()
    styles = paragraph_styles(font)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        title=f"服务合同 {contract.contract_no}",
    )
    store = contract.org_node.name if contract.org_node else ""
    vehicle = contract.vehicle
    facts = [
        ["合同编号", contract.contract_no, "签约门店", store],
        [
            "客户",
            contract.customer.name if contract.customer else "",
            "车牌号",
            (vehicle.plate or "新车未上牌") if vehicle else "",
        ],
        [
            "车架号",
            vehicle.vin if vehicle else "",
            "服务期限",
            f"{contract.start_date:%Y-%m-%d} 至 {contract.end_date:%Y-%m-%d}",
        ],
    ]
    items = [["服务项目", "数量", "期限（月）"]] + [
        [
            catalogue_names.get(i["category"], i["category"]),
            str(i["quantity"]),
            str(i.get("term_months", "")),
        ]
        for i in contract.items
    ]
    width = A4[0] - 36 * mm
    story = [
        Paragraph(f"{contract.title} 服务合同", styles["title"]),
        Spacer(1, 4 * mm),
        grid(facts, [width * 0.15, width * 0.35, width * 0.15, width * 0.35], font),
        Paragraph("服务内容", styles["heading"]),
        grid(items, [width * 0.6, width * 0.2, width * 0.2], font, header=True),
        Paragraph(f"合同金额（含税）：人民币 {money(contract.price)} 元", styles["heading"]),
        Spacer(1, 6 * mm),
        Paragraph(
            "本合同为经销商自营增值服务合同，服务由签约门店在服务期限内提供；不属于保险合同。"
            "客户凭合同编号到店享受服务。",
            styles["small"],
        ),
        Spacer(1, 10 * mm),
        Paragraph("门店（盖章）：____________　　客户签字：____________", styles["base"]),
    ]
    document.build(story)
    return buffer.getvalue()
