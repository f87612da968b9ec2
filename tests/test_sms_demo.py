"""The demo's SMS ledger: recent cases' invitations in their states, consistent with the ratings."""

from io import StringIO

from django.core.management import call_command

from haocha.evaluations.models import Rating
from haocha.integrations.sms.invitations import ALLOWED
from haocha.integrations.sms.models import SmsInbound, SmsInvitation, SmsMessage


def test_demo_fills_the_sms_ledger(db):
    call_command("demo", "--today=2026-06-15", "--seed=2026", "--ratings=4000", stdout=StringIO())
    invitations = list(SmsInvitation.objects.select_related("case"))
    assert 50 <= len(invitations) <= 400
    states = {i.status for i in invitations}
    assert {"answered", "expired", "reminded"} <= states
    for inv in invitations:
        assert "*" in inv.phone_masked and inv.phone_hash == inv.case.applicant_phone_hash
        trail = list(inv.events.values_list("from_status", "to_status"))
        assert trail[0] == ("", "queued") and trail[-1][1] == inv.status
        assert all(to in ALLOWED[frm] for frm, to in trail[1:])  # every step a legal transition
        if inv.status == "answered":
            assert Rating.objects.filter(pk=inv.rating_id, case=inv.case).exists()
    sms_rated = SmsInbound.objects.filter(outcome="rated")
    assert sms_rated.exists() and all(r.rating.channel == "sms" for r in sms_rated)
    assert SmsMessage.objects.count() == len(invitations)
