"""A rater's full identity for a role that needs it (回访): the permission over the rating, a purpose, the audit
entry and the daily quota (accounts/disclosure.py)."""

from haocha.accounts.access import Actor
from haocha.accounts.disclosure import personal_data_disclose
from haocha.core import identity
from haocha.evaluations import access
from haocha.evaluations.models import Rating

IDENTITY_FIELDS = ("name", "id_number", "phone")


def rating_identity_reveal(*, actor: Actor, rating: Rating, purpose: str, request=None) -> dict:
    """The evaluator's name, ID number and phone, for a role allowed to see them over this rating."""
    access.check(actor, access.REVEAL, rating)
    personal_data_disclose(
        actor=actor,
        obj=rating,
        region=rating.region,
        org_ids=(rating.department_id, rating.hall_id),
        what="查看评价人身份",
        fields=IDENTITY_FIELDS,
        purpose=purpose,
        request=request,
    )
    return {
        "name": rating.evaluator_name,
        "id_number": identity.decrypt(rating.evaluator_id_enc),
        "phone": identity.decrypt(rating.evaluator_phone_enc),
    }
