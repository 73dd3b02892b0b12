"""WTForms validators over the identifier checks, so a form names the field and the reason."""

from __future__ import annotations

from flask_babel import get_locale
from wtforms.validators import ValidationError

from app.identifiers import CHECKS, InvalidIdentifier


class ValidIdentifier:
    def __init__(self, kind: str):
        self.check = CHECKS[kind]

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        try:
            field.data = self.check(field.data)
        except InvalidIdentifier as exc:
            raise ValidationError(exc.message(_language())) from exc


def _language() -> str:
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh"
