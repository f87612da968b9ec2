"""`haocha sms` commands and the zh-hans admin of the SMS ledger (phones masked) and the policies."""

import json
import subprocess
import sys
import threading
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.test import Client

from haocha.core.models import OutboxMessage
from haocha.evaluations.models import Rating
from haocha.integrations.sms.models import SmsInbound, SmsInvitation, SmsMessage
from tests.factories import build_cast, finished_case
from tests.sms_helpers import PHONE, SECRET, reply


@pytest.fixture
def sms(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.HAOCHA_SMS_QUIET_HOURS = "off"
    settings.HAOCHA_SMS_WEBHOOK_SECRET = SECRET
    return tmp_path


def run(*args) -> str:
    out = StringIO()
    call_command("sms", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_status_send_test_and_sweep(cast, sms):
    finished_case(cast, "SMS-CLI-0001")
    out = run("status")
    assert "待发送：1" in out and "FileBackend" in out and "退订号码：0" in out
    out = run("send-test", "--phone", "13900002222", "--text", "测试短信", "--now")
    assert "139****2222" in out and "已提交网关" in out
    lines = (sms / "sms" / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    assert any(json.loads(line)["text"] == "测试短信" for line in lines)
    out = run("sweep")
    assert "短信邀评：" in out and "系统默认评价：生成 0" in out
    with pytest.raises(Exception, match="手机号码格式不正确"):
        run("send-test", "--phone", "123")


@pytest.mark.django_db
def test_retry_failed_puts_dead_texts_back(cast, sms):
    finished_case(cast, "SMS-CLI-0002")
    OutboxMessage.objects.filter(topic="sms.send").update(status="dead", last_error="HTTP 503")
    SmsMessage.objects.update(status="failed")
    assert "已重新放回队列：1 条" in run("retry-failed")
    assert OutboxMessage.objects.get(topic="sms.send").status == "pending"
    assert SmsMessage.objects.get().status == "queued"


def test_the_cli_is_the_installed_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "haocha.cli", "sms", "--help"],
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0 and "status" in proc.stdout and "retry-failed" in proc.stdout


@pytest.mark.django_db
def test_admin_shows_the_ledger_masked_and_edits_policies(cast, sms):
    from haocha.core.outbox import outbox_process

    case = finished_case(cast, "SMS-CLI-0003")
    outbox_process()
    reply(Client(), "4 很快", "MO-ADMIN-1")
    admin = Client()
    admin.force_login(cast.admin)
    invitation = SmsInvitation.objects.get(case=case)
    for url in (
        "/admin/sms/smsinvitation/",
        f"/admin/sms/smsinvitation/{invitation.pk}/change/",
        "/admin/sms/smsmessage/",
        "/admin/sms/smsinbound/",
        "/admin/sms/smsoptout/",
        "/admin/sms/smspolicy/add/",
    ):
        page = admin.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        assert PHONE not in html, url
    listing = admin.get("/admin/sms/smsinvitation/").content.decode()
    assert "138****5678" in listing and "已评价" in listing
    page = admin.get("/admin/evaluations/ratingpolicy/add/").content.decode()
    assert (
        "启用系统默认评价" in page
        and "默认评价等级" in page
        and "不满意" not in page.split("默认评价等级")[1][:400]
    )
    r = admin.post(
        "/admin/sms/smspolicy/add/",
        {
            "region": cast.city.pk,
            "invitations_enabled": "on",
            "quiet_start": "22:00",
            "quiet_end": "07:30",
            "reminder_after_hours": "12",
            "expire_after_days": "5",
            "invitation_template": "「{item}」已办结 {oops}",
            "reminder_template": "",
        },
    )
    assert r.status_code == 200 and "未知的占位符" in r.content.decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_reply_posted_concurrently_is_applied_once(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.HAOCHA_SMS_QUIET_HOURS = "off"
    settings.HAOCHA_SMS_WEBHOOK_SECRET = SECRET
    from haocha.core.outbox import outbox_process

    cast = build_cast()
    finished_case(cast, "SMS-CC-0001")
    outbox_process()
    n = 4
    barrier = threading.Barrier(n)
    answers = [None] * n

    def post(i):
        try:
            barrier.wait(timeout=30)
            r = reply(Client(), "5 办得很快", "MO-CONCURRENT")
            answers[i] = (r.status_code, r.json()["outcome"], r.json()["rating_id"])
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(set(answers)) == 1 and answers[0][:2] == (200, "rated"), answers
    assert Rating.objects.count() == 1 and SmsInbound.objects.count() == 1


def test_a_broken_sms_configuration_is_refused_at_start(settings):
    from haocha.integrations.sms.checks import sms_settings_check

    settings.HAOCHA_SMS_BACKEND = "haocha.integrations.sms.backends.HttpBackend"
    settings.HAOCHA_SMS_HTTP_URL = ""
    settings.HAOCHA_SMS_WEBHOOK_SECRET = ""
    assert {p.id for p in sms_settings_check(None)} == {"haocha.sms.E002", "haocha.sms.W001"}
    settings.HAOCHA_SMS_HTTP_URL = "https://sms.example.invalid/send"
    settings.HAOCHA_SMS_WEBHOOK_SECRET = SECRET
    settings.HAOCHA_SMS_QUIET_HOURS = "late evening"
    [problem] = sms_settings_check(None)
    assert problem.id == "haocha.sms.E001" and "HAOCHA_SMS_QUIET_HOURS" in problem.msg
    settings.HAOCHA_SMS_QUIET_HOURS = "21:00-08:00"
    assert sms_settings_check(None) == []
