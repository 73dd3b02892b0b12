"""Record hooks of people joining, named by entity documents (app.configuration.hooks).

`people.create_login`, on creating a record and on every later save of it (`hooks: {after_create:
[...], after_update: [...]}`: ticking it on an existing record, or on 重新入职): when the record's
`create_login` field asks for it and its `user` field is empty, a login is created in the
record's tenant and store, named `login_name`, with the record's `name`, `mobile` and `email` (a
placeholder `<login>@users.invalid` when it has none), and linked in `user`; `create_login` is
then cleared (it asks for one login, once; `user` is the fact). The login is active and has
**no roles**: the grant guard (app.security.grants) lets nobody give a role whose rights they do
not hold, so a tenant admin assigns the roles in 系统管理 → 用户. A temporary password is
generated and told once to the person saving (app.configuration.hooks.tell_saver) — never
stored in the record nor audited.

Refused, naming the record's field and keeping nothing of the save: no or a malformed
`login_name`, a login name or e-mail already taken (login names are unique across tenants), or a
record without a name. The login's creation is audited (its row, and a `create_login` event).
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from app.audit.recorder import record_event
from app.configuration.hooks import HookCall, record_hook, tell_saver
from app.errors import ValidationFailed
from app.security.grants import GrantRefused
from app.security.models import DealerUser
from app.tenancy.scope import system_scope, use_scope

ASK_FIELD = "create_login"
LOGIN_FIELD = "login_name"
USER_FIELD = "user"
NAME_FIELD = "name"
MOBILE_FIELD = "mobile"
EMAIL_FIELD = "email"
LOGIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")
PLACEHOLDER_DOMAIN = "users.invalid"  # RFC 2606: never delivered
CREATE_LOGIN_EVENT = "create_login"
# Letters and digits that cannot be mistaken for one another when read out or copied.
_LOWER = "abcdefghjkmnpqrstuvwxyz"
_UPPER = "ABCDEFGHJKMNPQRSTUVWXYZ"
_DIGITS = "23456789"
_SYMBOLS = "#%+=@"


def temporary_password(length: int = 14) -> str:
    """A random password meeting the password policy (app.security.passwords): every class."""
    classes = (_LOWER, _UPPER, _DIGITS, _SYMBOLS)
    chars = [secrets.choice(c) for c in classes]
    chars += [secrets.choice("".join(classes)) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def _taken(session, column, value: str) -> bool:
    """Whether any login, of any tenant, already has the value (case-insensitive): the name must
    be unique across tenants, so the check cannot stop at the caller's walls."""
    with use_scope(system_scope("people.create_login")):
        return (
            session.scalar(select(DealerUser.id).where(func.lower(column) == value.lower()))
            is not None
        )


@record_hook("people.create_login")
def create_login(call: HookCall) -> None:
    record = call.record
    if not getattr(record, ASK_FIELD, False) or getattr(record, USER_FIELD, None) is not None:
        return
    session = call.session
    username = (getattr(record, LOGIN_FIELD, None) or "").strip()
    if not username:
        raise ValidationFailed(
            f"{LOGIN_FIELD}: give the login name to create",
            "请填写登录用户名，才能创建登录账号",
            field=LOGIN_FIELD,
        )
    if not LOGIN_NAME.match(username):
        raise ValidationFailed(
            f"{LOGIN_FIELD}: 3-64 letters, digits, dots, dashes or underscores",
            "登录用户名应为 3–64 位字母、数字、点、横线或下划线，以字母或数字开头",
            field=LOGIN_FIELD,
        )
    if _taken(session, DealerUser.username, username):
        raise ValidationFailed(
            f"{LOGIN_FIELD}: the login name {username} is taken",
            f"登录用户名 {username} 已被使用，请换一个",
            field=LOGIN_FIELD,
        )
    email = (getattr(record, EMAIL_FIELD, None) or "").strip() or (
        f"{username.lower()}@{PLACEHOLDER_DOMAIN}"
    )
    if _taken(session, DealerUser.email, email):
        field = EMAIL_FIELD if getattr(record, EMAIL_FIELD, None) else LOGIN_FIELD
        raise ValidationFailed(
            f"{field}: the e-mail {email} belongs to another login",
            f"电子邮箱 {email} 已被其他账号使用",
            field=field,
        )
    name = (getattr(record, NAME_FIELD, None) or "").strip()
    if not name:
        raise ValidationFailed(
            f"{NAME_FIELD}: a login needs the employee's name",
            "创建登录账号需要员工姓名",
            field=NAME_FIELD,
        )
    password = temporary_password()
    login = DealerUser(
        username=username,
        first_name=name,
        last_name="",
        email=email,
        phone=getattr(record, MOBILE_FIELD, None),
        active=True,
        roles=[],
        tenant_id=record.tenant_id,
        org_node_id=record.org_node_id,
    )
    login.password = generate_password_hash(password)
    session.add(login)
    try:
        session.flush()
    except GrantRefused as refused:  # the guard judges the writer; it is not weakened here
        raise ValidationFailed(
            f"{ASK_FIELD}: {refused}", f"不能创建登录账号：{refused}", field=ASK_FIELD
        ) from None
    setattr(record, USER_FIELD, login.id)
    setattr(record, ASK_FIELD, False)
    session.flush()
    label = call.runtime.definition.body.get("label", {}).get("zh", call.runtime.definition.name)
    record_event(
        session,
        CREATE_LOGIN_EVENT,
        tenant_id=record.tenant_id,
        org_node_id=record.org_node_id,
        entity="ab_user",
        detail={"login": username, "login_id": login.id, "record": f"{label} #{record.id}"},
    )
    tell_saver(
        f"已为 {name} 创建登录账号 {username}，临时密码：{password}（只显示这一次，请当面转告本人，"
        "并请其登录后在个人信息中修改密码）。"
        "该账号暂无角色：请租户管理员在 系统管理 → 用户 中为其分配角色。",
        f"Login {username} created for {name}; temporary password: {password} (shown only "
        "this once: hand it over in person and have it changed at first login). The login has "
        "no roles yet: a tenant admin assigns them in System → Users.",
    )
