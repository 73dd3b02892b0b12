"""Permissions in words: Flask-AppBuilder's (permission, view) pairs grouped into business
capabilities and their actions ("保单：查看、批改、导入"), for the role editor.

Each action names views with a level, as the role policy does (app/security/roles.py): "read"
(list, show, export, API get) or "write" (read and add, edit, delete, publish, retry…); a set of
permission names picks exactly those. An action stands for every pair of the permission catalogue
its views and levels cover; a role holds the action when it holds all of them.

A capability adds its screens here when it adds views; pairs no action covers are kept as they
are on save and listed as "其他权限" (tests/app/test_roles_editor.py checks that every pair a
built-in role holds is covered).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.security.roles import READ_PERMISSIONS, SELF_SERVICE, WRITE_PERMISSIONS


@dataclass(frozen=True)
class Action:
    key: str
    label: str
    views: tuple[tuple[str, str | frozenset[str]], ...]  # (view, "read" | "write" | {perms})

    def pairs(self, catalogue: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """The catalogue's pairs this action stands for."""
        found = set()
        for view, level in self.views:
            allowed = (
                level
                if isinstance(level, frozenset)
                else (READ_PERMISSIONS if level == "read" else WRITE_PERMISSIONS)
            )
            found |= {(p, v) for p, v in catalogue if v == view and p in allowed}
        return found


@dataclass(frozen=True)
class Capability:
    key: str
    label: str
    actions: tuple[Action, ...]


def _a(key: str, label: str, **views) -> Action:
    return Action(key, label, tuple(views.items()))


CAPABILITIES: tuple[Capability, ...] = (
    Capability(
        "issuing",
        "出单",
        (
            _a("view", "查看订单", OrderView="read", OrderApi="read", ServiceContractView="read"),
            _a("quote", "报价出单", DeskView="write", QuoteApi="write", OrderApi="write"),
            _a("fees", "查看手续费", QuoteFeesView="read"),
        ),
    ),
    Capability(
        "policies",
        "保单",
        (
            _a("view", "查看", PolicyView="read", PolicyApi="read"),
            _a("endorse", "批改", PolicyView="write", PolicyApi="write"),
            _a("personal", "查看证件号与电话", PolicyPersonalDataView="read"),
            _a("import", "导入", PolicyImportView="write"),
        ),
    ),
    Capability(
        "customers",
        "客户与车辆",
        (
            _a(
                "view",
                "查看",
                CustomerView="read",
                VehicleView="read",
                CustomerApi="read",
                VehicleApi="read",
            ),  # fmt: skip
            _a("edit_vehicles", "维护车辆", VehicleView="write"),
            _a(
                "edit",
                "维护客户与车辆",
                CustomerView="write",
                VehicleView="write",
                CustomerApi="write",
                VehicleApi="write",
            ),  # fmt: skip
        ),
    ),
    Capability(
        "arrivals",
        "进店",
        (
            _a(
                "view",
                "查看进店与提醒",
                ArrivalsView="read",
                ArrivalAlertView="read",
                CameraEventView="read",
                WalkInLeadView="read",
            ),  # fmt: skip
            _a("delete", "删除误识别", CameraEventView="write", WalkInLeadView="write"),
        ),
    ),
    Capability(
        "cameras",
        "摄像头",
        (
            _a("monitor", "查看状态", CameraMonitorView="read"),
            _a("manage", "登记与吊销", CameraView="write"),
        ),
    ),
    Capability(
        "organisation",
        "组织机构",
        (
            _a(
                "view",
                "查看",
                OrgTreeView="read",
                OrgNodeView="read",
                OrgNodeApi="read",
                TenantView="read",
            ),  # fmt: skip
            _a("edit", "维护机构", OrgNodeView="write", OrgNodeApi="write"),
            _a("tenants", "维护租户", TenantView="write"),
        ),
    ),
    Capability(
        "reference",
        "品牌与城市",
        (
            _a("view", "查看", BrandView="read", CityView="read", BrandApi="read", CityApi="read"),
            _a(
                "edit",
                "维护",
                BrandView="write",
                CityView="write",
                BrandApi="write",
                CityApi="write",
            ),  # fmt: skip
        ),
    ),
    Capability(
        "configuration",
        "配置中心",
        (
            _a(
                "view",
                "查看配置文档",
                DocumentView="read",
                DocumentVersionView="read",
                InstalledPackView="read",
            ),  # fmt: skip
            _a("simulate", "规则仿真", RuleSimulatorView="read"),
            _a("edit", "编辑与发布", DocumentEditorView="write", DocumentVersionView="write"),
            _a("packs", "上传配置包", PackUploadView="write"),
            _a("records", "自定义数据", EntityRecordsView="write"),
        ),
    ),
    Capability(
        "carriers",
        "保险公司",
        (
            _a("status", "查看插件与保险公司", CarrierStatusView="read"),
            _a("pull", "立即下载", CarrierStatusView="write"),
            _a("downloads_view", "查看待处理下载", CarrierDownloadItemView="read"),
            _a("downloads", "处理待处理下载", CarrierDownloadItemView="write"),
            _a("credentials", "录入凭据", CarrierCredentialView="write"),
        ),
    ),
    Capability("reports", "报表", (_a("view", "查看报表", ReportView="read"),)),
    Capability(
        "employees",
        "员工",
        (
            _a("users_view", "查看用户", DealerUserView="read"),
            _a("users", "管理用户", DealerUserView="write"),
            _a("handover", "离职交接", HandoverView="write", HandoverApi="write"),
            _a("notices", "我的提醒", NoticeView="read"),
        ),
    ),
    Capability(
        "system",
        "系统管理",
        (
            _a("monitoring", "查看状态监控", MonitoringView="read"),
            _a("operate", "运维（立即探测、重试任务）", MonitoringView="write"),
            _a("jobs_view", "查看后台任务", JobRecordView="read", JobRecordApi="read"),
            _a("jobs", "重试后台任务", JobRecordView="write"),
            _a("audit", "查看审计日志", AuditRecordView="read", AuditRecordApi="read"),
            _a("roles", "查看角色与权限", RoleEditorView="read"),
        ),
    ),
)

HIDDEN = set(SELF_SERVICE)  # every role has them: changing one's own password, one's profile


def catalogue_of(sm) -> set[tuple[str, str]]:
    """Every (permission, view) pair of the database, menu entries left out (they follow from
    the screens a role can list)."""
    from app.security.roles import permission_views

    return {pair for pair in permission_views(sm) if pair[0] != "menu_access"}


@dataclass(frozen=True)
class Held:
    capability: Capability
    action: Action
    pairs: frozenset[tuple[str, str]]
    held: str  # "all" | "some" | "none"


def describe(
    held_pairs: Iterable[tuple[str, str]], catalogue: set[tuple[str, str]]
) -> list[tuple[Capability, list[Held]]]:
    """Each capability and its actions with how much of each the pairs hold; actions whose
    screens are not installed are left out."""
    held_pairs = set(held_pairs)
    answer = []
    for capability in CAPABILITIES:
        found = [(a, frozenset(a.pairs(catalogue))) for a in capability.actions]
        found = [(a, pairs) for a, pairs in found if pairs]
        full = [pairs for _a, pairs in found if pairs <= held_pairs]
        explained = set().union(*full) if full else set()
        # A pair held beyond the fully held actions counts for the first action that has it
        # (actions are listed from looking to changing): a role that lists jobs without their
        # API is partly "查看后台任务", not partly "重试".
        partly = set()
        for pair in held_pairs - explained:
            owners = [n for n, (_a, pairs) in enumerate(found) if pair in pairs]
            if owners:
                partly.add(owners[0])
        actions = []
        for n, (action, pairs) in enumerate(found):
            have = pairs & held_pairs
            state = "all" if have == pairs else ("some" if n in partly else "none")
            actions.append(Held(capability, action, pairs, state))
        if actions:
            answer.append((capability, actions))
    return answer


def in_words(held_pairs: Iterable[tuple[str, str]], catalogue: set[tuple[str, str]]) -> list[str]:
    """The role as a business admin reads it: ["保单：查看、批改", "客户与车辆：查看"]."""
    lines = []
    for capability, actions in describe(held_pairs, catalogue):
        names = [h.action.label for h in actions if h.held == "all"]
        names += [f"{h.action.label}（部分）" for h in actions if h.held == "some"]
        if names:
            lines.append(f"{capability.label}：{'、'.join(names)}")
    return lines


def covered(catalogue: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The pairs some action stands for."""
    found = set()
    for capability in CAPABILITIES:
        for action in capability.actions:
            found |= action.pairs(catalogue)
    return found


def action_by_id(ident: str) -> Action | None:
    """`capability.action` → the action."""
    cap_key, _, action_key = ident.partition(".")
    for capability in CAPABILITIES:
        if capability.key == cap_key:
            return next((a for a in capability.actions if a.key == action_key), None)
    return None
