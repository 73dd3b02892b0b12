"""我的提醒: the signed-in user's in-app notices, newest first; opening one marks it read."""

from __future__ import annotations

from flask import abort, g, redirect, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from sqlalchemy import func, select

from app.audit.models import utcnow
from app.extensions import db
from app.notices.models import Notice
from app.web.formatting import local_time

PAGE = 50


class NoticeView(BaseView):
    route_base = "/notices"
    default_view = "index"
    method_permission_name = {"index": "list", "open_notice": "list"}

    @expose("/")
    @has_access
    def index(self):
        mine = Notice.user_id == g.user.id
        notices = db.session.scalars(
            select(Notice).where(mine).order_by(Notice.id.desc()).limit(PAGE)
        ).all()
        unread = db.session.scalar(
            select(func.count()).select_from(Notice).where(mine, Notice.read_at.is_(None))
        )
        return self.render_template(
            "notices/index.html", notices=notices, unread=unread, local_time=local_time
        )

    @expose("/<int:notice_id>/open", methods=["POST"])
    @has_access
    def open_notice(self, notice_id: int):
        notice = db.session.get(Notice, notice_id)
        if notice is None or notice.user_id != g.user.id:
            abort(404)
        if notice.read_at is None:
            notice.read_at = utcnow()
            db.session.commit()
        target = notice.link if (notice.link or "").startswith("/") else None
        return redirect(target or request.referrer or "/notices/")


def register(appbuilder) -> None:
    from app.security import roles as r

    r.grant({role: {"NoticeView": "read"} for role in r.ROLE_POLICY})
    appbuilder.add_view(
        NoticeView,
        "Notices",
        label="我的提醒",
        href="/notices/",
        icon="fa-bell-o",
        category="Employees",
        category_label="员工",
        category_icon="fa-id-badge",
    )
