"""电子保单: a printable Chinese PDF of a policy (built with app/printing, the font and styles every
printed document shares), stored under STORAGE_PATH and recorded as a PolicyDocument
with its SHA-256, so a reprint can be proved to be the same file."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from flask import current_app
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
from sqlalchemy.orm import Session

from app.audit.models import utcnow
from app.errors import NotFound, Unavailable
from app.policies.labels import DocumentKind, PolicyLine, label
from app.policies.listing import local_time, mask_identifier
from app.policies.models import Policy, PolicyDocument
from app.printing import cjk_font, escape, grid, money, paragraph_styles
from app.tenancy.scope import current_scope

TITLES = {
    PolicyLine.COMPULSORY_MOTOR: "机动车交通事故责任强制保险单（电子保单）",
    PolicyLine.COMMERCIAL_MOTOR: "机动车商业保险保险单（电子保单）",
    PolicyLine.DRIVER_PASSENGER_ACCIDENT: "驾乘人员意外伤害保险单（电子保单）",
    PolicyLine.ACCIDENT_HEALTH: "意外健康保险单（电子保单）",
    PolicyLine.TERM_LIFE: "定期寿险保险单（电子保单）",
}


def render_policy_pdf(policy: Policy) -> bytes:
    """The PDF of `policy` (its coverages and endorsements as they are now)."""
    font = cjk_font()
    styles = paragraph_styles(font)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=f"{policy.policy_no} 电子保单",
        author=policy.carrier,
    )
    width = A4[0] - 32 * mm
    story = [
        Paragraph(escape(policy.carrier), styles["carrier"]),
        Paragraph(TITLES.get(policy.line, "保险单（电子保单）"), styles["title"]),
        Paragraph(f"保险单号：{escape(policy.policy_no)}", styles["base"]),
        Spacer(1, 4),
        grid(_facts(policy), [width * 0.18, width * 0.32, width * 0.18, width * 0.32], font),
        Paragraph("承保险别", styles["heading"]),
        grid(
            _coverage_rows(policy),
            [width * 0.34, width * 0.22, width * 0.22, width * 0.22],
            font,
            header=True,
        ),
        Spacer(1, 4),
        grid(_totals(policy), [width * 0.25] * 4, font),
    ]
    if policy.endorsements:
        story += [
            Paragraph("批改记录", styles["heading"]),
            grid(
                _endorsement_rows(policy),
                [width * 0.34, width * 0.13, width * 0.15, width * 0.16, width * 0.22],
                font,
                header=True,
            ),
        ]
    story += [
        Spacer(1, 10),
        Paragraph(
            "特别约定：本保单为电子保单，与纸质保单具有同等法律效力。保险期间自起保日零时起至"
            "终保日二十四时止。请登录保险公司官网或拨打客服电话核验保单真伪。",
            styles["small"],
        ),
        Paragraph(
            f"生成时间：{local_time(utcnow()):%Y-%m-%d %H:%M}（北京时间）"
            "　由 DealerCover 出单系统生成",
            styles["small"],
        ),
    ]
    doc.build(story)
    return out.getvalue()


def _facts(policy: Policy) -> list[list[str]]:
    issued = local_time(policy.issued_at)
    holder = policy.customer.name if policy.customer else policy.insured_name
    rows = [
        ["投保人", holder, "被保险人", policy.insured_name],
        [
            "证件号码",
            mask_identifier(policy.insured_id_number),
            "联系电话",
            mask_identifier(policy.insured_mobile),
        ],
        [
            "保险期间",
            f"{policy.start_date:%Y年%m月%d日}零时起至{policy.end_date:%Y年%m月%d日}二十四时止",
            "险种",
            label(policy.line),
        ],
        [
            "业务类型",
            label(policy.business_type),
            "签单时间",
            f"{issued:%Y-%m-%d %H:%M}" if issued else "",
        ],
    ]
    if policy.line in (PolicyLine.COMPULSORY_MOTOR, PolicyLine.COMMERCIAL_MOTOR) or policy.plate:
        rows.append(["号牌号码", policy.plate or "新车未上牌", "车架号（VIN）", policy.vin or ""])
        rows.append(
            [
                "新旧车",
                "新车" if policy.vehicle_is_new else "旧车",
                "车辆种类",
                policy.vehicle.vehicle_class if policy.vehicle else "",
            ]
        )
    rows.append(
        ["销售人员", policy.salesperson_name or "", "执业证编号", policy.practitioner_no or ""]
    )
    rows.append(
        ["出单机构", policy.org_node.name if policy.org_node else "", "保险公司", policy.carrier]
    )
    return rows


def _coverage_rows(policy: Policy) -> list[list[str]]:
    rows = [["险别", "保险金额/责任限额（元）", "保费（含税，元）", "不含税保费（元）"]]
    for coverage in policy.coverages:
        rows.append(
            [
                coverage.name,
                money(coverage.sum_insured),
                money(coverage.premium_incl_tax),
                money(coverage.premium_excl_tax),
            ]
        )
    if not policy.coverages:
        rows.append(
            [
                label(policy.line),
                money(policy.sum_insured),
                money(policy.premium_incl_tax),
                money(policy.premium_excl_tax),
            ]
        )
    return rows


def _totals(policy: Policy) -> list[list[str]]:
    rows = [
        [
            "保费合计（含税）",
            f"¥{money(policy.premium_incl_tax)}",
            "不含税保费",
            f"¥{money(policy.premium_excl_tax)}",
        ],
        ["增值税", f"¥{money(policy.vat_amount)}", "代收车船税", f"¥{money(policy.vehicle_tax)}"],
    ]
    return rows


def _endorsement_rows(policy: Policy) -> list[list[str]]:
    rows = [["批单号", "批改类型", "生效日期", "保费变化（含税）", "原因"]]
    for e in policy.endorsements:
        rows.append(
            [
                e.endorsement_no,
                label(e.kind),
                e.effective_date.isoformat(),
                money(e.premium_change_incl_tax),
                e.reason or "",
            ]
        )
    return rows


# --- storage ------------------------------------------------------------------------------------


def storage_root() -> Path:
    return Path(current_app.config["STORAGE_PATH"])


def store_policy_pdf(session: Session, policy: Policy) -> PolicyDocument:
    """Render the 电子保单, write it under STORAGE_PATH and record it (flushes)."""
    data = render_policy_pdf(policy)
    digest = hashlib.sha256(data).hexdigest()
    version = sum(1 for d in policy.documents if d.kind == DocumentKind.E_POLICY) + 1
    filename = f"{policy.policy_no}-v{version}.pdf"
    key = f"policies/{policy.tenant_id}/{policy.id}/{filename}"
    target = storage_root() / key
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    scope = current_scope()
    document = PolicyDocument(
        tenant_id=policy.tenant_id,
        org_node_id=policy.org_node_id,
        policy=policy,
        kind=DocumentKind.E_POLICY,
        filename=filename,
        storage_key=key,
        sha256=digest,
        size=len(data),
        created_by=scope.username if scope else None,
    )
    session.add(document)
    session.flush()
    return document


def latest_policy_pdf(session: Session, policy: Policy) -> PolicyDocument:
    """The newest 电子保单 of the policy, made now when there is none or its file is gone."""
    existing = [d for d in policy.documents if d.kind == DocumentKind.E_POLICY]
    if existing and (storage_root() / existing[-1].storage_key).exists():
        return existing[-1]
    return store_policy_pdf(session, policy)


def read_document(document: PolicyDocument) -> bytes:
    """The stored bytes, checked against the recorded SHA-256."""
    path = storage_root() / document.storage_key
    if not path.exists():
        raise NotFound("document file not found", "文件不存在")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != document.sha256:
        raise Unavailable("document file does not match its checksum", "文件校验失败")
    return data
