"""WTForms validators over the identifier checks, so a form names the field and the reason."""

from __future__ import annotations

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
            raise ValidationError(str(exc)) from exc
