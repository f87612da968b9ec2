"""One-time SMS codes: a citizen proves they hold the phone on record for their ID number (or phone) before a
terminal or 我的办件 shows their cases. Codes are stored as HMACs, expire, allow a few attempts, and are
throttled; the answer to a request never says whether the identity has cases."""

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from haocha.catalogue.models import Case
from haocha.channels.models import VerificationCode
from haocha.channels.throttle import throttle_hit
from haocha.core import identity
from haocha.core.errors import Conflict, DomainError, InvalidInput
from haocha.integrations.sms.outgoing import sms_enqueue

CODE_MINUTES = 5
MAX_ATTEMPTS = 5
RESEND_SECONDS = 60
PER_SUBJECT_PER_HOUR = 5
PER_REQUESTER_PER_HOUR = 60


@dataclass(frozen=True)
class Subject:
    """Who a verified session acts for: the keyed hash of an ID number or a phone."""

    kind: str  # "id" or "phone"
    hash: str


def _code_hash(challenge, code: str) -> str:
    key = ("sms-code:" + settings.SECRET_KEY).encode()
    return hmac.new(key, f"{challenge}:{code}".encode(), hashlib.sha256).hexdigest()


def subject_from_input(kind: str, value: str) -> tuple[Subject, str]:
    """Validate what the citizen typed; returns the subject and the normalised value."""
    if kind == "id":
        value = identity.normalise_id_number(value)
        if not identity.is_valid_resident_id(value):
            raise InvalidInput("身份证号码格式或校验位不正确", code="invalid_id_number")
    elif kind == "phone":
        value = identity.normalise_phone(value)
        if not identity.is_valid_phone(value):
            raise InvalidInput("手机号码格式不正确", code="invalid_phone")
    else:
        raise InvalidInput("请选择证件号码或手机号码", code="invalid_subject")
    return Subject(kind=kind, hash=identity.keyed_hash(kind, value)), value


def cases_of(subject: Subject):
    field = "applicant_id_hash" if subject.kind == "id" else "applicant_phone_hash"
    return Case.objects.filter(**{field: subject.hash})


def _phone_on_record(subject: Subject, value: str) -> str:
    """The phone to text: the applicant's phone on their latest case (never the number typed, unless it is
    that phone); '' when the identity has no case with a phone."""
    if subject.kind == "phone":
        return value if cases_of(subject).exists() else ""
    enc = (
        cases_of(subject)
        .exclude(applicant_phone_enc="")
        .order_by("-accepted_at")
        .values_list("applicant_phone_enc", flat=True)
        .first()
    )
    return identity.decrypt(enc) if enc else ""


def code_request(*, purpose: str, kind: str, value: str, requester: str) -> VerificationCode:
    """Send a code to the phone on record (if any) and return the challenge to verify against."""
    subject, value = subject_from_input(kind, value)
    throttle_hit(
        f"code-req:{requester}",
        limit=PER_REQUESTER_PER_HOUR,
        seconds=3600,
        message="获取验证码过于频繁，请稍后再试",
    )
    last = (
        VerificationCode.objects.filter(purpose=purpose, subject_hash=subject.hash)
        .order_by("-created_at")
        .first()
    )
    now = timezone.now()
    if last is not None and now - last.created_at < timedelta(seconds=RESEND_SECONDS):
        wait = RESEND_SECONDS - int((now - last.created_at).total_seconds())
        raise DomainError(f"验证码已发送，请{wait}秒后再重新获取", code="code_resend_too_soon", status=429)
    throttle_hit(
        f"code-subj:{purpose}:{subject.hash}",
        limit=PER_SUBJECT_PER_HOUR,
        seconds=3600,
        message="该号码获取验证码次数过多，请一小时后再试",
    )
    phone = _phone_on_record(subject, value)
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        row = VerificationCode(
            purpose=purpose,
            subject_kind=subject.kind,
            subject_hash=subject.hash,
            requester=requester[:64],
            expires_at=now + timedelta(minutes=CODE_MINUTES),
        )
        row.code_hash = _code_hash(row.challenge, code) if phone else ""
        row.save()
        if phone:
            label = VerificationCode.Purpose(purpose).label
            sms_enqueue(
                phone=phone,
                text=f"【长沙政务服务】验证码{code}，{CODE_MINUTES}分钟内有效，用于{label}。如非本人操作请忽略。",
                key=f"code:{row.challenge}",
                purpose=f"code_{purpose}",
            )
    return row


def code_verify(*, purpose: str, challenge: str, code: str) -> Subject:
    """Check a code once; every try counts (a wrong code cannot be retried forever)."""
    code = (code or "").strip()
    try:
        challenge = uuid.UUID(str(challenge))
    except ValueError:
        challenge = None
    row = VerificationCode.objects.filter(challenge=challenge, purpose=purpose).first() if challenge else None
    if row is None:
        raise InvalidInput("请先获取验证码", code="code_missing")
    now = timezone.now()
    if row.consumed_at is not None:
        raise Conflict("该验证码已使用，请重新获取", code="code_used")
    if row.expires_at < now:
        raise DomainError("验证码已过期，请重新获取", code="code_expired", status=410)
    # The attempt is counted in its own statement (committed even when the code is wrong).
    counted = VerificationCode.objects.filter(
        pk=row.pk, attempts__lt=MAX_ATTEMPTS, consumed_at__isnull=True
    ).update(attempts=F("attempts") + 1)
    if not counted:
        raise DomainError("验证码错误次数过多，请重新获取", code="code_locked", status=429)
    if not (
        row.code_hash
        and len(code) == 6
        and hmac.compare_digest(row.code_hash, _code_hash(row.challenge, code))
    ):
        left = MAX_ATTEMPTS - row.attempts - 1
        hint = f"，还可尝试{left}次" if left > 0 else "，请重新获取"
        raise InvalidInput(f"验证码不正确{hint}", code="code_wrong")
    used = VerificationCode.objects.filter(pk=row.pk, consumed_at__isnull=True).update(consumed_at=now)
    if not used:
        raise Conflict("该验证码已使用，请重新获取", code="code_used")
    return Subject(kind=row.subject_kind, hash=row.subject_hash)
