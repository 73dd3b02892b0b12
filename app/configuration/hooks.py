"""Named record hooks: Python a capability offers, that an entity document opts into by name.

A capability registers a hook under a dotted name in its own `hooks.py` (listed in HOOK_MODULES,
imported on first use, like the hand-over's assignments):

    @record_hook("handover.leave")
    def leave(call: HookCall) -> None: ...

and a document names it on a state transition or on creation:

    states:
      transitions:
        - {from: active, to: left, hooks: [handover.leave]}
    hooks: {after_create: [some.hook], after_update: [some.hook]}

(after_update runs on every change, transitions included, after the transition's own hooks.)
app.configuration.records calls them inside the save's transaction, after the values are
checked, the transition validated and the record flushed, before the commit. A hook that
refuses raises an app.errors error (ValidationFailed(field=...), Conflict, NotFound...): the
whole save is refused with that 4xx and nothing of it is kept. Publishing a document that names
a hook nobody registered is refused (app.configuration.entity_checks).

A hook may tell the person saving something once (a temporary password, what to do next) with
tell_saver(zh, en): the record screens flash it after the commit and the API adds it to its
answer as `_notices`; it is never stored nor audited.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import g, has_app_context
from sqlalchemy.orm import Session

from app.errors import Conflict

# The capabilities' hook modules, imported by load_hooks(). A capability not present is skipped;
# an error inside a present module is raised.
HOOK_MODULES = ("app.handover.hooks", "app.people.hooks")
HOOK_NAME = r"^[a-z][a-z0-9_]{0,40}\.[a-z][a-z0-9_]{0,40}$"


@dataclass(frozen=True)
class HookCall:
    """What a hook is called with: the record as it will be saved (flushed, not committed), the
    state it leaves and enters (None and None after a creation), and who saves it."""

    session: Session
    runtime: Any  # app.configuration.runtime.EntityRuntime
    record: Any
    from_state: str | None
    to_state: str | None
    user: Any


RecordHook = Callable[[HookCall], None]
_HOOKS: dict[str, RecordHook] = {}
_loaded = False


def register_record_hook(name: str, hook: RecordHook) -> RecordHook:
    existing = _HOOKS.get(name)
    if existing is not None and existing is not hook:
        raise ValueError(f"record hook {name!r} is registered twice")
    _HOOKS[name] = hook
    return hook


def record_hook(name: str) -> Callable[[RecordHook], RecordHook]:
    """Decorator form of register_record_hook."""

    def register(hook: RecordHook) -> RecordHook:
        return register_record_hook(name, hook)

    return register


def load_hooks() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in HOOK_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if not module.startswith(f"{exc.name}.") and exc.name != module:
                raise


def hook_names() -> set[str]:
    load_hooks()
    return set(_HOOKS)


def run_hooks(names: Iterable[str], call: HookCall) -> None:
    """Call each named hook in order; the first refusal propagates (the caller's transaction is
    then rolled back whole)."""
    load_hooks()
    for name in names:
        hook = _HOOKS.get(name)
        if hook is None:  # published while a capability was present that no longer is
            raise Conflict(
                f"this save runs {name!r}, which is not installed; ask an administrator",
                f"此操作需要的功能 {name} 未安装，请联系管理员",
                code="hook_missing",
            )
        hook(call)


def tell_saver(zh: str, en: str) -> None:
    """A message for the person saving, shown once after the save commits (see the module's
    docstring). Outside an application context (a command) there is nobody to tell."""
    if has_app_context():
        g.setdefault("dc_hook_notices", []).append({"zh": zh, "en": en})


def told_saver() -> list[dict[str, str]]:
    """The messages hooks left for the saver in this request, once (they are then forgotten)."""
    if not has_app_context():
        return []
    return g.pop("dc_hook_notices", None) or []


def forget_told() -> None:
    """A save that was refused tells nothing."""
    if has_app_context():
        g.pop("dc_hook_notices", None)
