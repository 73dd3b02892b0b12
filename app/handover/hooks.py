"""Record hooks of the hand-over, named by entity documents (app.configuration.hooks).

`handover.leave`, on a transition such as the staff record's 在职 → 离职: the record's `user`
field is the leaver's login (a `target: user` reference) and its `successor` field the login
their records go to. The login is stopped at once and every record assigned to the leaver is
handed over to the successor, in the transition's own transaction and audited like the
hand-over screen's. Refused, naming the record's field, when the leaver still holds records and
no successor is named (or the successor is not an active user of the tenant): the transition
is then refused whole. A record without a login has nothing to stop or hand over.
"""

from __future__ import annotations

from app.configuration.hooks import HookCall, record_hook
from app.errors import DomainError
from app.handover.models import HandoverReason
from app.handover.services import hand_over

LEAVER_FIELD = "user"
SUCCESSOR_FIELD = "successor"
# The hand-over service's names → the record's fields, so a refusal names what the form shows.
FIELDS = {"leaver_id": LEAVER_FIELD, "successor_id": SUCCESSOR_FIELD}


@record_hook("handover.leave")
def leave(call: HookCall) -> None:
    record = call.record
    leaver_id = getattr(record, LEAVER_FIELD, None)
    if leaver_id is None:
        return
    label = call.runtime.definition.body.get("label", {}).get("zh", call.runtime.definition.name)
    try:
        hand_over(
            call.session,
            leaver_id,
            getattr(record, SUCCESSOR_FIELD, None),
            reason=HandoverReason.LEAVING,
            stop_login=True,
            note=f"{label} #{record.id}：{call.from_state} → {call.to_state}",
        )
    except DomainError as error:
        if error.field in FIELDS:
            service_name, error.field = error.field, FIELDS[error.field]
            error.english = error.english.replace(service_name, error.field, 1)
        raise
