"""The enumerations of the policy book and their one label table (Chinese first, English kept for
the API and logs). Screens, the list resolver, exports and the PDF all read labels from here."""

from __future__ import annotations

import enum


class PolicyLine(enum.StrEnum):
    COMPULSORY_MOTOR = "compulsory_motor"
    COMMERCIAL_MOTOR = "commercial_motor"
    DRIVER_PASSENGER_ACCIDENT = "driver_passenger_accident"
    ACCIDENT_HEALTH = "accident_health"
    TERM_LIFE = "term_life"


MOTOR_LINES = (PolicyLine.COMPULSORY_MOTOR, PolicyLine.COMMERCIAL_MOTOR)


class BusinessType(enum.StrEnum):
    NEW = "new"
    RENEWAL = "renewal"
    TRANSFER = "transfer"
    COMBINED_FIRST = "combined_first"
    COMBINED_OTHER = "combined_other"


class PolicySource(enum.StrEnum):
    DESK = "desk"
    IMPORT = "import"
    CARRIER_DOWNLOAD = "carrier_download"
    RENEWAL = "renewal"


class IssuingTerminal(enum.StrEnum):
    PC = "pc"
    PHONE = "phone"
    IMPORT = "import"
    CARRIER_DOWNLOAD = "carrier_download"


class PolicyStatus(enum.StrEnum):
    PENDING_CONFIRMATION = "pending_confirmation"
    IN_FORCE = "in_force"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUSED = "refused"


class EndorsementKind(enum.StrEnum):
    CHANGE_PLATE = "change_plate"
    CHANGE_OWNER = "change_owner"
    CHANGE_COVERAGE = "change_coverage"
    CANCEL = "cancel"


class EndorsementStatus(enum.StrEnum):
    PENDING_CONFIRMATION = "pending_confirmation"
    EFFECTIVE = "effective"
    REFUSED = "refused"


class DocumentKind(enum.StrEnum):
    E_POLICY = "e_policy"
    ENDORSEMENT = "endorsement"


# One table: enum member → (中文, English).
LABELS: dict[enum.Enum, tuple[str, str]] = {
    PolicyLine.COMPULSORY_MOTOR: ("交强险", "Compulsory motor"),
    PolicyLine.COMMERCIAL_MOTOR: ("商业险", "Commercial motor"),
    PolicyLine.DRIVER_PASSENGER_ACCIDENT: ("驾乘意外险", "Driver and passenger accident"),
    PolicyLine.ACCIDENT_HEALTH: ("意健险", "Accident and health"),
    PolicyLine.TERM_LIFE: ("定期寿险", "Term life"),
    BusinessType.NEW: ("新保", "New business"),
    BusinessType.RENEWAL: ("续保", "Renewal"),
    BusinessType.TRANSFER: ("转保", "Transfer"),
    BusinessType.COMBINED_FIRST: ("联单第一联", "Combined, first policy"),
    BusinessType.COMBINED_OTHER: ("联单其他联", "Combined, other policies"),
    PolicySource.DESK: ("出单", "Desk"),
    PolicySource.IMPORT: ("导入", "Import"),
    PolicySource.CARRIER_DOWNLOAD: ("保险公司下载", "Carrier download"),
    PolicySource.RENEWAL: ("续保", "Renewal"),
    IssuingTerminal.PC: ("电脑", "PC"),
    IssuingTerminal.PHONE: ("手机", "Phone"),
    IssuingTerminal.IMPORT: ("导入", "Import"),
    IssuingTerminal.CARRIER_DOWNLOAD: ("保险公司下载", "Carrier download"),
    PolicyStatus.PENDING_CONFIRMATION: ("待确认", "Pending confirmation"),
    PolicyStatus.IN_FORCE: ("已承保", "In force"),
    PolicyStatus.CANCELLED: ("已退保", "Cancelled"),
    PolicyStatus.EXPIRED: ("已到期", "Expired"),
    PolicyStatus.REFUSED: ("已拒保", "Refused"),
    EndorsementKind.CHANGE_PLATE: ("变更车牌", "Plate change"),
    EndorsementKind.CHANGE_OWNER: ("变更车主", "Owner change"),
    EndorsementKind.CHANGE_COVERAGE: ("变更险别", "Coverage change"),
    EndorsementKind.CANCEL: ("退保", "Cancellation"),
    EndorsementStatus.PENDING_CONFIRMATION: ("待确认", "Pending confirmation"),
    EndorsementStatus.EFFECTIVE: ("已生效", "Effective"),
    EndorsementStatus.REFUSED: ("已拒绝", "Refused"),
    DocumentKind.E_POLICY: ("电子保单", "Electronic policy"),
    DocumentKind.ENDORSEMENT: ("批单", "Endorsement"),
}

ENUMS = (
    PolicyLine,
    BusinessType,
    PolicySource,
    IssuingTerminal,
    PolicyStatus,
    EndorsementKind,
    EndorsementStatus,
    DocumentKind,
)


def label(member: enum.Enum | str | None, lang: str = "zh", enum_cls: type | None = None) -> str:
    """The label of an enum member (or of its stored value, given the enum class)."""
    if member is None or member == "":
        return ""
    if not isinstance(member, enum.Enum) and enum_cls is not None:
        try:
            member = enum_cls(member)
        except ValueError:
            return str(member)
    pair = LABELS.get(member)  # type: ignore[arg-type]
    if pair is None:
        return str(getattr(member, "value", member))
    return pair[0] if lang == "zh" else pair[1]


def choices(enum_cls: type[enum.Enum], lang: str = "zh") -> list[tuple[str, str]]:
    """(value, label) pairs for a select box."""
    return [(m.value, label(m, lang)) for m in enum_cls]


def from_label(enum_cls: type[enum.StrEnum], text: str) -> enum.StrEnum:
    """The member whose value, Chinese or English label is `text`; ValueError otherwise."""
    wanted = (text or "").strip()
    for member in enum_cls:
        zh, en = LABELS.get(member, (member.value, member.value))
        if wanted in (member.value, zh, en) or wanted.lower() == en.lower():
            return member
    raise ValueError(wanted)
