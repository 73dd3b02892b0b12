"""The document kinds messaging owns: `message_template` (SMS, WeChat and call texts). Its test
cases render the template with the values given."""

from __future__ import annotations

from collections.abc import Mapping

import rules
from app.configuration.kinds import KindSpec, register_kind
from app.messaging.templates import render_template


def run_template_case(template: Mapping, values: Mapping, library: rules.Library) -> str:
    return render_template(template, values)


register_kind(
    KindSpec(
        "message_template", "message_templates", run_case=run_template_case, owner="app.messaging"
    )
)
