"""The demo city's channels: tablets at the 市民之家 windows under the codes its ratings carry, terminals, the
demo clerk on duty with a case being served, and the 评价渠道 page to activate them from."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from haocha.accounts.models import User
from haocha.channels.models import Device, ServedCase, WindowDuty
from haocha.evaluations.models import Rating

pytestmark = pytest.mark.django_db


def test_demo_registers_devices_and_puts_the_clerk_on_duty():
    call_command("demo", "--today=2026-06-15", "--ratings=600", stdout=StringIO())
    tablets = Device.objects.filter(kind=Device.Kind.TABLET)
    assert tablets.count() == 8 and not tablets.exclude(secret_hash="").exists()  # activated on site
    assert Device.objects.filter(kind=Device.Kind.TERMINAL).count() == 6
    codes = set(Device.objects.values_list("code", flat=True))
    demo_devices = set(Rating.objects.exclude(device_id="").values_list("device_id", flat=True))
    assert codes & demo_devices  # the demo's ratings point at registered devices
    duty = WindowDuty.objects.get()
    clerk = User.objects.get(username="clerk")
    assert duty.staff.user == clerk and duty.ended_at is None
    served = ServedCase.objects.get()
    assert served.window == duty.window and not Rating.objects.filter(case=served.case).exists()
    c = Client()
    c.force_login(clerk)
    page = c.get("/channels/").content.decode()
    assert "长沙市民之家政务服务大厅" in page and "待激活" in page and "生成激活链接" in page
    desk = c.get("/desk/").content.decode()
    assert duty.window.number in desk and served.case.case_no in desk
