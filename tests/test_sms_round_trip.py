"""The SMS channel end to end against a stand-in provider running as its own process on loopback.

A case is registered through the API, the worker process sends the invitation through the HTTP backend,
the provider posts the citizen's reply (twice, as gateways retry) to the signed webhook of a live server,
and exactly one rating is stored. 退订 stops reminders and later invitations.
"""

import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from haocha.channels.links import target_from_token
from haocha.evaluations.models import Rating
from haocha.integrations.sms.invitations import sms_sweep
from haocha.integrations.sms.models import SmsInvitation, SmsMessage, SmsOptOut
from haocha.workorders.models import WorkOrder
from tests.conftest import Api, url_of_test_database
from tests.factories import build_cast
from tests.sms_helpers import GATEWAY_KEY, PHONE, SECRET, Gateway, register_case, use_gateway

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def run_worker(gateway: Gateway) -> str:
    """`haocha worker --once` as its own process on the test database, sending through the gateway."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url_of_test_database(),
        HAOCHA_SMS_BACKEND="haocha.integrations.sms.backends.HttpBackend",
        HAOCHA_SMS_HTTP_URL=gateway.url + "/send",
        HAOCHA_SMS_HTTP_KEY=GATEWAY_KEY,
        HAOCHA_SMS_HTTP_ACCOUNT="haocha-test",
        HAOCHA_SMS_WEBHOOK_SECRET=SECRET,
        HAOCHA_SMS_QUIET_HOURS="off",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "haocha.cli", "worker", "--once"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture
def city(live_server, settings):
    cast = build_cast()
    gateway = Gateway(webhook=live_server.url)
    use_gateway(settings, gateway)
    settings.HAOCHA_SMS_QUIET_HOURS = "off"
    yield cast, gateway, Api(Client(), cast.key_a)
    gateway.stop()


def finish(api, cast, case_no, phone=PHONE):
    now = timezone.localtime()
    return register_case(
        api,
        cast,
        case_no,
        phone=phone,
        accepted_at=(now - timedelta(days=1)).isoformat(),
        finished_at=(now - timedelta(minutes=30)).isoformat(),
    )


def test_invitation_out_reply_in_one_rating(city):
    cast, gateway, api = city
    case = finish(api, cast, "SMS-RT-0001")
    invitation = SmsInvitation.objects.get(case=case)
    assert invitation.status == "queued" and invitation.phone_masked == "138****5678"
    assert gateway.messages() == []

    out = run_worker(gateway)
    assert "消息投递：成功 1" in out
    [sent] = gateway.messages()
    assert sent["phone"] == PHONE and sent["sign_name"] == "长沙政务服务" and sent["account"] == "haocha-test"
    assert (
        "「食品经营许可」已办结" in sent["text"]
        and "回复5非常满意" in sent["text"]
        and "TD退订" in sent["text"]
    )
    token = re.search(r"/r/([^/\s]+)/", sent["text"]).group(1)
    target = target_from_token(token)
    assert (target.case.pk, target.channel) == (case.pk, "sms")
    invitation.refresh_from_db()
    assert invitation.status == "sent" and invitation.sent_at is not None
    assert SmsMessage.objects.get(key=sent["out_id"]).provider_message_id == sent["message_id"]

    receipt = gateway.receipt(sent["out_id"])
    assert receipt["status"] == 200 and receipt["body"] == {"applied": 1, "unknown": 0}
    invitation.refresh_from_db()
    assert invitation.status == "delivered" and invitation.delivered_at is not None

    # the gateway retries the same reply: applied once, the second answer is the first one replayed
    first, second = gateway.reply(PHONE, "２ 窗口排队等了一个多小时", "MO-0001", times=2)
    assert first["status"] == second["status"] == 200
    assert first["body"]["outcome"] == "rated" and first["body"]["case_no"] == "SMS-RT-0001"
    assert second["body"]["replayed"] is True and second["body"]["rating_id"] == first["body"]["rating_id"]
    rating = Rating.objects.get(case=case)
    assert (rating.channel, rating.level, rating.is_bad) == ("sms", "dissatisfied", True)
    assert rating.comment == "窗口排队等了一个多小时"
    assert rating.evaluator_phone_masked == "138****5678" and rating.evaluator_name == "王小明"
    assert WorkOrder.objects.filter(rating=rating).count() == 1  # a 差评 becomes a work order
    invitation.refresh_from_db()
    assert invitation.status == "answered" and invitation.rating_id == rating.pk

    # a third post of the same reply, straight to the webhook, is still the same single rating
    third = gateway.reply(PHONE, "２ 窗口排队等了一个多小时", "MO-0001")[0]
    assert third["body"]["replayed"] is True
    assert Rating.objects.filter(case=case).count() == 1

    run_worker(gateway)
    texts = [m["text"] for m in gateway.messages()]
    assert len(texts) == 2 and "核实处理" in texts[1]  # the acknowledgement of a 差评, and nothing else
    assert sum("已办结" in t for t in texts) == 1


def test_opt_out_stops_reminders_and_invitations(city):
    cast, gateway, api = city
    case = finish(api, cast, "SMS-RT-0002")
    run_worker(gateway)
    assert len(gateway.messages()) == 1

    [answer] = gateway.reply(PHONE, "ＴＤ", "MO-0100")
    assert answer["status"] == 200 and answer["body"]["outcome"] == "opted_out"
    invitation = SmsInvitation.objects.get(case=case)
    assert invitation.status == "opted_out" and invitation.opted_out_at is not None
    assert SmsOptOut.objects.count() == 1

    later = timezone.now() + timedelta(hours=30)
    assert sms_sweep(now=later)["reminded"] == 0
    finish(api, cast, "SMS-RT-0003")  # a later case of the same phone
    assert not SmsInvitation.objects.filter(case__case_no="SMS-RT-0003").exists()

    run_worker(gateway)
    texts = [m["text"] for m in gateway.messages()]
    assert len(texts) == 2 and "退订成功" in texts[1]
    assert not any("温馨提醒" in t for t in texts)
