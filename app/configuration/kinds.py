"""The registry of document kinds. Each capability registers the kinds it owns, in its own
`kinds.py`: the pack folder of the kind, the schema of its body, validation beyond the schema,
how its test cases run and what publishing a version does. The configuration engine (reading,
test cases, install, publish) asks the registry instead of testing kind names.

    register_kind(KindSpec("fee_agreement", "fee_agreements", run_case=run_fee_case))

Registration happens when a capability's `kinds` module is imported; `load_kinds()` imports
every capability's (the app factory and the `flask` CLI call it, and every look-up here does it
first, so pure callers such as the metadata tests need nothing more).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    import rules
    from app.configuration.models import DocumentVersion
    from app.configuration.reading import Problem, SourceDocument

# The capabilities' kind modules, imported by load_kinds(). A capability not present (its
# package not written yet) is skipped; an error inside a present module is raised.
KIND_MODULES = (
    "app.configuration.kinds",
    "app.quoting.kinds",
    "app.fees.kinds",
    "app.messaging.kinds",
    "app.reconciliation.kinds",
    "app.carriers.kinds",
    "app.policies.kinds",
)


@dataclass
class CheckContext:
    """What a kind's validation may look at besides the document: the pack (or console edit)
    it comes with, the documents published for the same owner, and somewhere to put the table
    changes an entity makes (shown in the install plan)."""

    pack: str
    documents: Sequence[SourceDocument]
    current: Mapping[tuple[str, str], DocumentVersion]  # (kind, key) → its published version
    tenant_id: int | None = None
    tables: list[Any] = field(default_factory=list)


@dataclass
class PublishContext:
    """A version being published (by a pack install or from the console), inside the
    publishing transaction: a hook may write (DDL included) but must not commit."""

    session: Session
    version: DocumentVersion
    previous: DocumentVersion | None
    data: Mapping[str, Any]
    tenant_id: int | None


Validator = Callable[["SourceDocument", CheckContext], "list[Problem]"]
CaseRunner = Callable[[Mapping[str, Any], Mapping[str, Any], "rules.Library"], Any]
Publisher = Callable[[PublishContext], None]
# How a document's page shows the body (app.configuration.presenting): body, lang → Presentation.
Presenter = Callable[[Mapping[str, Any], str], Any]


@dataclass(frozen=True)
class KindSpec:
    """One kind of document.

    - `folder`: where a pack keeps documents of the kind (products/compulsory_motor.yaml);
    - `schema`: the body schema under metadata/schemas (default: the kind's name);
    - `validate(document, context) -> [Problem]`: checks beyond the schema, at install and at
      publish from the console;
    - `run_case(document, input, library) -> actual`: runs one of the document's `tests`, the
      actual value compared with the case's `expected`;
    - `on_publish(context)`: what publishing a version does besides storing it;
    - `rules_document`: compiled into the rules library that products and rule sets refer to,
      and its own test cases run by the rules engine;
    - `present(data, lang) -> Presentation`: how the console shows a version's content the way
      the kind reads (a decision table as a table, a fee agreement as its grid); without one
      the console shows the YAML (app.configuration.presenting).
    """

    kind: str
    folder: str
    validate: Validator | None = None
    run_case: CaseRunner | None = None
    on_publish: Publisher | None = None
    schema: str = ""
    rules_document: bool = False
    owner: str = ""  # the capability package that registered it
    present: Presenter | None = None

    @property
    def schema_name(self) -> str:
        return self.schema or self.kind

    def check(self, document: SourceDocument, context: CheckContext) -> list[Problem]:
        return list(self.validate(document, context)) if self.validate else []


class UnknownKind(KeyError):
    """A document kind no capability registers."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(kind)

    def __str__(self) -> str:
        known = ", ".join(sorted(_KINDS))
        return f"unknown document kind {self.kind!r}: no capability registers it (known: {known})"


_KINDS: dict[str, KindSpec] = {}
_loaded = False


def register_kind(spec: KindSpec) -> KindSpec:
    """Register a kind; a second registration of the same kind is a mistake and refused (add
    hooks to another capability's kind with `extend_kind`)."""
    existing = _KINDS.get(spec.kind)
    if existing is not None and existing != spec:
        raise ValueError(f"document kind {spec.kind!r} is already registered by {existing.owner}")
    folders = {other.folder: other.kind for other in _KINDS.values() if other.kind != spec.kind}
    if spec.folder in folders:
        raise ValueError(f"folder {spec.folder!r} already holds kind {folders[spec.folder]!r}")
    _KINDS[spec.kind] = spec
    return spec


def extend_kind(
    kind: str,
    *,
    validate: Validator | None = None,
    on_publish: Publisher | None = None,
    present: Presenter | None = None,
) -> KindSpec:
    """Add a validation or publish hook to a kind registered elsewhere (both hooks run: the
    registered one first). E.g. carriers check a `carrier` document's config against the
    plugin's own JSON Schema. A presenter given here replaces the kind's own."""
    spec = _KINDS.get(kind)
    if spec is None:
        raise UnknownKind(kind)
    changes: dict[str, Any] = {}
    if validate is not None:
        changes["validate"] = _both_validators(spec.validate, validate)
    if on_publish is not None:
        changes["on_publish"] = _both_publishers(spec.on_publish, on_publish)
    if present is not None:
        changes["present"] = present
    _KINDS[kind] = dataclasses.replace(spec, **changes)
    return _KINDS[kind]


def _both_validators(first: Validator | None, second: Validator) -> Validator:
    if first is None:
        return second

    def validate(document, context):
        return [*first(document, context), *second(document, context)]

    return validate


def _both_publishers(first: Publisher | None, second: Publisher) -> Publisher:
    if first is None:
        return second

    def publish(context):
        first(context)
        second(context)

    return publish


def load_kinds() -> None:
    """Import every capability's kinds module (once), so that all kinds are registered."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in KIND_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name not in _parents(name):
                raise


def _parents(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[: i + 1]) for i in range(len(parts))}


def kind_spec(kind: str) -> KindSpec:
    """The registered kind, or UnknownKind."""
    load_kinds()
    try:
        return _KINDS[kind]
    except KeyError:
        raise UnknownKind(kind) from None


def registered_kinds() -> dict[str, KindSpec]:
    load_kinds()
    return dict(_KINDS)


def rule_kinds() -> tuple[str, ...]:
    """The kinds compiled into rules libraries (decision tables, rule sets)."""
    return tuple(kind for kind, spec in registered_kinds().items() if spec.rules_document)


class _Folders(Mapping[str, str]):
    """kind → pack folder, read from the registry when used (not when imported)."""

    def __getitem__(self, kind: str) -> str:
        return kind_spec(kind).folder

    def __iter__(self) -> Iterator[str]:
        return iter(registered_kinds())

    def __len__(self) -> int:
        return len(registered_kinds())

    def __repr__(self) -> str:
        return repr({kind: spec.folder for kind, spec in registered_kinds().items()})


KIND_FOLDERS: Mapping[str, str] = _Folders()


# --- the configuration engine's own kinds -------------------------------------------------------


def _evaluate_rule_case(document: Mapping, given: Mapping, library: rules.Library) -> Any:
    return library.get(document["key"], document["version"]).evaluate(given)


def _validate_entity(document: SourceDocument, context: CheckContext) -> list[Problem]:
    from app.configuration.install import entity_problems

    return entity_problems(document, context)


def _publish_entity(context: PublishContext) -> None:
    from app.configuration.install import publish_entity_tables

    publish_entity_tables(
        context.session, context.previous, dict(context.data), context.version, context.tenant_id
    )


def _present_decision_table(data: Mapping[str, Any], lang: str):
    from app.configuration.presenting_tables import present_decision_table

    return present_decision_table(data, lang)


def _present_list_view(data: Mapping[str, Any], lang: str):
    from app.configuration.presenting_tables import present_list_view

    return present_list_view(data, lang)


def _register_own_kinds() -> None:
    own = "app.configuration"
    register_kind(
        KindSpec("entity", "entities", _validate_entity, on_publish=_publish_entity, owner=own)
    )
    for kind in ("decision_table", "rule_set"):
        register_kind(
            KindSpec(
                kind,
                f"{kind}s",
                run_case=_evaluate_rule_case,
                rules_document=True,
                owner=own,
                present=_present_decision_table if kind == "decision_table" else None,
            )
        )
    plain = {
        "list_view": "list_views",
        "report": "reports",
        "renewal_policy": "renewal_policies",
        "service_catalog": "service_catalogs",
        "service_package": "service_packages",
        # Carriers add their plugin's configuration check with extend_kind (app.carriers.kinds).
        "carrier": "carriers",
    }
    presenters = {"list_view": _present_list_view}
    for kind, folder in plain.items():
        register_kind(KindSpec(kind, folder, owner=own, present=presenters.get(kind)))


_register_own_kinds()
