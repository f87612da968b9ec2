"""Signed rating links: one case, the channel handed out through, an optional level; forged and stale refused."""

import pytest
from django.core import signing

from haocha.catalogue.selectors import case_visible_to
from haocha.channels import links
from haocha.core.errors import DomainError, NotFound
from tests.factories import finished_case


def test_link_round_trip_carries_case_channel_and_level(cast):
    case = finished_case(cast, "LINK-1")
    token = links.rating_link_token(case, channel="sms", level="satisfied")
    target = links.target_from_token(token)
    assert (target.case.pk, target.channel, target.level) == (case.pk, "sms", "satisfied")
    assert links.rating_link_url(case, channel="qrcode").startswith("http://127.0.0.1:8000/r/")


def test_forged_and_expired_links_are_refused(cast, settings):
    case = finished_case(cast, "LINK-2")
    token = links.rating_link_token(case, channel="qrcode")
    with pytest.raises(NotFound):
        links.target_from_token(token[:-2] + "xx")
    with pytest.raises(NotFound):
        links.target_from_token(signing.dumps({"c": "LINK-2", "ch": "qrcode"}, salt="another-salt"))
    settings.HAOCHA_RATING_LINK_DAYS = -1
    with pytest.raises(DomainError) as exc:
        links.target_from_token(token)
    assert exc.value.code == "link_expired" and exc.value.status == 410


def test_link_actor_reaches_only_its_case(cast):
    case = finished_case(cast, "LINK-3")
    actor = links.actor_for_case(case, label="评价链接")
    assert case_visible_to(actor, case)
    other_dept = next(d for d in (cast.dept_a, cast.dept_b) if d.pk != case.department_id)
    assert not actor.can_see_org(other_dept.pk)
    assert actor.client is None and actor.user is None
