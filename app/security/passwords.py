"""Password policy: long enough and mixed, checked wherever a password is set."""

from __future__ import annotations

import string

from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_babel import gettext as _

MIN_LENGTH = 10
MIN_CLASSES = 3


def password_problems(password: str) -> list[str]:
    """What is wrong with a password, in the user's language; empty when it is acceptable."""
    problems = []
    if len(password or "") < MIN_LENGTH:
        problems.append(_("at least %(n)d characters", n=MIN_LENGTH))
    classes = [
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(c in string.punctuation for c in password),
    ]
    if sum(classes) < MIN_CLASSES:
        problems.append(_("at least 3 of: lower case, upper case, digits, symbols"))
    return problems


def check_password_policy(password: str) -> None:
    """Flask-AppBuilder's complexity hook: raise with the reasons when the policy is not met."""
    problems = password_problems(password)
    if problems:
        raise PasswordComplexityValidationError(
            _("Password must have %(rules)s", rules="; ".join(problems))
        )
