import hashlib
import hmac
import json
import logging

from camera_agent.agent import make_event
from camera_agent.sender import Backoff, Sender, flush, sign
from camera_agent.spool import Spool


def spool_events(spool: Spool, count: int) -> list[str]:
    ids = []
    for i in range(count):
        event = make_event("plate", f"沪A1234{i}", "blue", 0.99, "GATE-1", None)
        spool.add(event)
        ids.append(event["event_id"])
    return ids


def test_events_spooled_while_app_is_down_arrive_in_order_once_up(tmp_path, fake_app):
    spool = Spool(tmp_path / "spool")
    sender = Sender(fake_app.url, fake_app.key_id, fake_app.token, timeout=2)
    ids = spool_events(spool, 5)

    down = flush(spool, sender)  # nothing listens on the port yet
    assert down.sent == 0 and down.stopped_by is None
    assert spool.depth() == 5

    fake_app.start()
    up = flush(spool, sender)
    assert up.sent == 5 and up.stopped_by == ""
    assert [e["event_id"] for e in fake_app.events] == ids
    assert spool.depth() == 0

    assert flush(spool, sender).sent == 0  # nothing sent twice
    assert len(fake_app.events) == 5


def test_spool_survives_a_restart_and_keeps_order(tmp_path, fake_app):
    ids = spool_events(Spool(tmp_path), 3)
    reopened = Spool(tmp_path)
    ids += spool_events(reopened, 2)
    fake_app.start()
    flush(reopened, Sender(fake_app.url, fake_app.key_id, fake_app.token))
    assert [e["event_id"] for e in fake_app.events] == ids


def test_revoked_token_keeps_events_spooled_and_logs_it(tmp_path, fake_app, caplog):
    spool = Spool(tmp_path)
    spool_events(spool, 2)
    fake_app.answer = 401
    fake_app.start()
    with caplog.at_level(logging.ERROR):
        result = flush(spool, Sender(fake_app.url, fake_app.key_id, fake_app.token))
    assert result.stopped_by == 401
    assert spool.depth() == 2
    assert "token" in caplog.text and "revoked" in caplog.text


def test_wrong_token_is_refused_by_signature(tmp_path, fake_app):
    spool = Spool(tmp_path)
    spool_events(spool, 1)
    fake_app.start()
    assert flush(spool, Sender(fake_app.url, fake_app.key_id, "wrong-token")).stopped_by == 401
    assert spool.depth() == 1


def test_malformed_event_goes_to_dead_letter_and_the_rest_goes_on(tmp_path, fake_app):
    spool = Spool(tmp_path)
    spool.add({"event_id": "bad", "kind": "plate"})  # no text: the app answers 422
    ids = spool_events(spool, 2)
    fake_app.start()
    result = flush(spool, Sender(fake_app.url, fake_app.key_id, fake_app.token))
    assert result.sent == 2 and result.dead == 1
    assert [e["event_id"] for e in fake_app.events] == ids
    dead = [json.loads(line) for line in spool.dead_letter_path.read_text().splitlines()]
    assert dead[0]["event"]["event_id"] == "bad"


def test_full_spool_drops_oldest_with_a_log_line(tmp_path, caplog):
    spool = Spool(tmp_path, max_events=3)
    with caplog.at_level(logging.ERROR):
        ids = spool_events(spool, 5)
    kept = [json.loads(p.read_text())["event_id"] for p in spool.pending()]
    assert kept == ids[2:]
    assert "spool full" in caplog.text


def test_signature_is_hmac_of_timestamp_and_body():
    expected = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign("k", 1700000000, b"{}") == expected


def test_backoff_doubles_up_to_the_cap_and_resets():
    backoff = Backoff(1, 8)
    assert [backoff.failed(0) for _ in range(5)] == [1, 2, 4, 8, 8]
    assert not backoff.ready(7)
    backoff.succeeded()
    assert backoff.ready(0)


def test_sender_thread_sends_heartbeat_with_spool_depth(tmp_path, fake_app):
    from camera_agent.agent import SenderThread

    spool = Spool(tmp_path)
    spool_events(spool, 1)
    fake_app.start()
    thread = SenderThread(
        spool, Sender(fake_app.url, fake_app.key_id, fake_app.token), "GATE-1", 30, Backoff()
    )
    thread.step(now=0.0)
    assert fake_app.heartbeats[0]["camera_code"] == "GATE-1"
    assert fake_app.heartbeats[0]["spool_depth"] == 1
    assert len(fake_app.events) == 1 and spool.depth() == 0
