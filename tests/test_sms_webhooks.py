"""POST /api/sms/inbound and /api/sms/receipts: signed by the provider, applied once, never a 500."""

import json

import pytest
from django.test import Client

from haocha.core.outbox import outbox_process
from haocha.evaluations.models import Rating
from haocha.integrations.sms.models import SmsInbound, SmsInvitation, SmsMessage
from tests.factories import finished_case
from tests.sms_helpers import PHONE, SECRET, post_signed, reply, sign

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sms(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.HAOCHA_SMS_QUIET_HOURS = "off"
    settings.HAOCHA_SMS_WEBHOOK_SECRET = SECRET
    return tmp_path


def texts(tmp_path) -> list[str]:
    outbox_process()
    path = tmp_path / "sms" / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]


def invited(cast, case_no, seq=1):
    case = finished_case(cast, case_no, seq=seq)
    outbox_process()
    invitation = SmsInvitation.objects.get(case=case)
    assert invitation.status == "sent"
    return invitation


BODY = {"message_id": "MO-1", "phone": PHONE, "text": "5"}


def test_unsigned_calls_are_refused_with_401():
    r = Client().post("/api/sms/inbound", BODY, content_type="application/json")
    assert r.status_code == 401 and r.json()["code"] == "signature_missing"
    r = Client().post(
        "/api/sms/receipts",
        {"receipts": []},
        content_type="application/json",
        headers={"X-Sms-Signature": "x"},
    )
    assert r.status_code == 401 and r.json()["code"] == "signature_missing"


@pytest.mark.parametrize(
    "kw, code",
    [
        ({"secret": "another-secret"}, "signature_invalid"),
        ({"ts": 1_000_000_000}, "signature_expired"),
    ],
)
def test_wrong_or_stale_signatures_are_refused_with_403(kw, code):
    r = post_signed(Client(), "/sms/inbound", BODY, **kw)
    assert r.status_code == 403 and r.json()["code"] == code
    assert not SmsInbound.objects.exists()


def test_a_body_changed_after_signing_is_refused():
    raw = json.dumps(BODY).encode()
    headers = sign(raw)
    tampered = json.dumps({**BODY, "text": "1 很差"}).encode()
    r = Client().post("/api/sms/inbound", tampered, content_type="application/json", headers=headers)
    assert r.status_code == 403 and r.json()["code"] == "signature_invalid"


def test_without_a_configured_secret_the_webhooks_are_off(settings):
    settings.HAOCHA_SMS_WEBHOOK_SECRET = ""
    r = post_signed(Client(), "/sms/inbound", BODY)
    assert r.status_code == 403 and r.json()["code"] == "sms_webhook_disabled"


@pytest.mark.parametrize(
    "path, body, code",
    [
        ("/sms/inbound", {"phone": PHONE, "text": "5"}, "invalid_input"),
        ("/sms/inbound", {"message_id": "MO-2", "phone": PHONE}, "invalid_input"),
        ("/sms/inbound", {"message_id": "MO-2", "phone": "12345", "text": "5"}, "invalid_phone"),
        ("/sms/inbound", {"message_id": "MO-2", "phone": PHONE, "text": 5}, "invalid_input"),
        ("/sms/inbound", {**BODY, "received_at": "1900-01-01T00:00:00"}, "invalid_time"),
        ("/sms/inbound", [1, 2], "invalid_input"),
        ("/sms/inbound", b"", "invalid_input"),
        ("/sms/receipts", {"receipts": []}, "invalid_input"),
        ("/sms/receipts", {"receipts": [{"message_id": "x", "status": "read"}]}, "invalid_status"),
        ("/sms/receipts", {"receipts": [{"status": "delivered"}]}, "receipt_id_required"),
    ],
)
def test_malformed_bodies_get_422_with_a_code(path, body, code):
    r = post_signed(Client(), path, body)
    assert r.status_code == 422, r.content
    assert r.json()["code"] == code and r.json()["message"]


def test_a_body_that_is_not_json_is_a_clear_4xx():
    r = post_signed(Client(), "/sms/inbound", b"text=5&phone=13812345678")
    assert 400 <= r.status_code < 500 and r.json()["code"]


def test_a_bad_rating_without_reason_asks_for_it_then_takes_it(cast, _sms):
    invitation = invited(cast, "SMS-WH-0001")
    r = reply(Client(), "1", "MO-10")
    assert r.status_code == 200 and r.json()["outcome"] == "reason_requested"
    assert not Rating.objects.exists()  # the intake's rule holds: a 差评 needs a reason
    invitation.refresh_from_db()
    assert invitation.pending_level == "very_dissatisfied" and invitation.status == "sent"
    reply(Client(), "1", "MO-11")  # the same again: asked once only
    assert sum("请直接回复不满意的原因" in t for t in texts(_sms)) == 1

    r = reply(Client(), "材料被退回了三次，每次说法都不一样", "MO-12")
    assert r.status_code == 200 and r.json()["outcome"] == "rated"
    rating = Rating.objects.get()
    assert (rating.level, rating.channel) == ("very_dissatisfied", "sms")
    assert rating.comment == "材料被退回了三次，每次说法都不一样"
    invitation.refresh_from_db()
    assert invitation.status == "answered" and invitation.pending_level == ""


def test_an_unreadable_reply_gets_one_explanation(cast, _sms):
    invited(cast, "SMS-WH-0002")
    for i in range(3):
        r = reply(Client(), "请问什么时候能拿到证？", f"MO-2{i}")
        assert r.status_code == 200 and r.json()["outcome"] == "unparsed"
    assert sum("未能识别您的回复" in t for t in texts(_sms)) == 1
    r = reply(Client(), "满意", "MO-29")
    assert r.json()["outcome"] == "rated" and Rating.objects.get().level == "satisfied"


def test_a_reply_without_an_open_invitation(cast, _sms):
    r = reply(Client(), "5", "MO-30")
    assert r.status_code == 200 and r.json()["outcome"] == "no_invitation" and r.json()["case_no"] is None
    reply(Client(), "5", "MO-31")
    assert sum("没有待评价的办件" in t for t in texts(_sms)) == 1  # once a day per phone


def test_a_case_rated_elsewhere_refuses_the_sms_rating_clearly(cast, api_for, _sms):
    invitation = invited(cast, "SMS-WH-0003")
    r = api_for(cast.key_a).post(
        "/ratings", {"case_no": "SMS-WH-0003", "channel": "pc", "level": "satisfied"}
    )
    assert r.status_code == 201
    r = reply(Client(), "4", "MO-40")
    assert r.status_code == 200 and r.json()["outcome"] == "refused" and r.json()["code"] == "already_rated"
    assert Rating.objects.count() == 1
    assert any("评价未成功" in t and "一事一评" in t for t in texts(_sms))
    invitation.refresh_from_db()
    assert invitation.status == "answered"


def test_the_latest_open_invitation_of_the_phone_is_answered(cast, _sms):
    older = invited(cast, "SMS-WH-0004", seq=4)
    newer = invited(cast, "SMS-WH-0005", seq=5)
    r = reply(Client(), "5 很快", "MO-50")
    assert r.json()["case_no"] == "SMS-WH-0005"
    older.refresh_from_db(), newer.refresh_from_db()
    assert (older.status, newer.status) == ("sent", "answered")


def test_receipts_update_the_ledger(cast, _sms):
    invitation = invited(cast, "SMS-WH-0006")
    message = SmsMessage.objects.get(invitation=invitation)
    body = {
        "receipts": [
            {"message_id": message.provider_message_id, "status": "delivered"},
            {"message_id": "unknown-1", "status": "delivered"},
        ]
    }
    r = post_signed(Client(), "/sms/receipts", body)
    assert r.status_code == 200 and r.json() == {"applied": 1, "unknown": 1}
    invitation.refresh_from_db()
    assert invitation.status == "delivered"
    assert post_signed(Client(), "/sms/receipts", body).json() == {
        "applied": 1,
        "unknown": 1,
    }  # again: no change
    assert invitation.events.filter(to_status="delivered").count() == 1


def test_a_failed_receipt_fails_the_invitation(cast, _sms):
    invitation = invited(cast, "SMS-WH-0007")
    key = SmsMessage.objects.get(invitation=invitation).key
    body = {"receipts": [{"out_id": key, "status": "failed", "error": "UNDELIV"}]}
    assert post_signed(Client(), "/sms/receipts", body).status_code == 200
    invitation.refresh_from_db()
    assert invitation.status == "failed" and "UNDELIV" in invitation.note
