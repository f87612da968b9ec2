"""The nearest policy up the region tree (organisations/policies.py): one resolver, cleared when a policy is saved."""

from datetime import timedelta

from haocha.integrations.sms.models import SmsPolicy
from haocha.integrations.sms.policy import settings_policy, sms_policy_for
from haocha.organisations.policies import nearest_policy


def test_a_region_takes_its_own_policy_else_the_nearest_ancestors_else_none(cast):
    assert nearest_policy(SmsPolicy, cast.furong) is None
    city = SmsPolicy.objects.create(region=cast.city, reminder_after_hours=48)
    assert nearest_policy(SmsPolicy, cast.furong) == city  # the district inherits the city's
    assert nearest_policy(SmsPolicy, cast.province) is None  # a parent never inherits from a child
    own = SmsPolicy.objects.create(region=cast.furong, reminder_after_hours=6)
    assert nearest_policy(SmsPolicy, cast.furong) == own
    assert nearest_policy(SmsPolicy, cast.yuelu) == city
    assert nearest_policy(SmsPolicy, None) is None


def test_a_policy_saved_or_deleted_in_the_admin_applies_at_once(cast, client, django_user_model):
    SmsPolicy.objects.create(region=cast.city, invitations_enabled=True)
    assert sms_policy_for(cast.furong).invitations_enabled  # now cached
    admin = django_user_model.objects.create_superuser("root", password="x-Haocha-2026")
    client.force_login(admin)
    row = SmsPolicy.objects.get(region=cast.city)
    form = {
        "region": cast.city.pk,
        "invitations_enabled": "",
        "quiet_start": "21:00",
        "quiet_end": "08:00",
        "reminder_after_hours": 24,
        "expire_after_days": 7,
        "invitation_template": "",
        "reminder_template": "",
    }
    r = client.post(f"/admin/sms/smspolicy/{row.pk}/change/", form)
    assert r.status_code == 302, r.content.decode()[:2000]
    assert not sms_policy_for(cast.furong).invitations_enabled
    row.delete()
    assert sms_policy_for(cast.furong) == settings_policy()  # no row left: the settings apply again


def test_a_work_order_policy_changed_applies_to_the_next_deadline_at_once(cast):
    from haocha.workorders.models import WorkOrderPolicy
    from haocha.workorders.policy import order_policy

    assert order_policy(cast.furong).simple_days == 2  # the 1210 defaults, now cached
    row = WorkOrderPolicy.objects.create(region=cast.city, simple_days=5)
    assert order_policy(cast.furong).simple_days == 5
    row.simple_days = 7
    row.save()
    assert order_policy(cast.furong).simple_days == 7
    row.delete()
    assert order_policy(cast.furong).simple_days == 2


def test_a_rating_policy_changed_applies_to_the_next_rating_at_once(cast, api_for):
    from haocha.evaluations.models import RatingPolicy
    from tests.factories import finished_case

    api = api_for(cast.key_city)
    finished_case(cast, "POL-1", seq=1, finished_ago=timedelta(days=3))
    finished_case(cast, "POL-2", seq=2, finished_ago=timedelta(days=3))
    good = {"channel": "pc", "level": "satisfied"}
    assert api.post("/ratings", {**good, "case_no": "POL-1"}).status_code == 201  # the defaults, now cached
    row = RatingPolicy.objects.create(region=cast.city, rating_window_days=2)
    r = api.post("/ratings", {**good, "case_no": "POL-2"})
    assert r.status_code == 409 and r.json()["code"] == "rating_period_over"
    row.rating_window_days = 7
    row.save()
    assert api.post("/ratings", {**good, "case_no": "POL-2"}).status_code == 201
    follow = {**good, "case_no": "POL-1"}
    row.follow_up_days = 0
    row.save()
    r = api.post("/ratings/follow-up", follow)
    assert r.status_code == 409 and r.json()["code"] == "follow_up_window_closed"
    row.delete()
    assert api.post("/ratings/follow-up", follow).status_code == 201  # no row left: the defaults again
