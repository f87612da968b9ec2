"""Bench data: a minimal reference set and finished cases written through a fast executemany path."""

from datetime import timedelta

from django.db import connections, transaction
from django.utils import timezone

from haocha.accounts.models import ApiClient
from haocha.catalogue.models import Case, ServiceItem
from haocha.catalogue.services import CASE_FIELDS
from haocha.core import identity
from haocha.organisations.codes import credit_code_check_char
from haocha.organisations.models import Organisation, Region
from haocha.organisations.services import organisation_save, region_save

CLIENT_NAME = "压测接入系统"
IDENTITY_POOL = 1000  # distinct applicants; Fernet costs ~30 µs a value, so cases reuse a pool of them


def case_no(index: int) -> str:
    return f"BENCH-{index:09d}"


def resident_id(seq: int) -> str:
    first17 = f"430102{19600101 + (seq % 28) + 100 * (seq % 12) + 10000 * (seq % 40)}{seq % 1000:03d}"
    return first17 + identity.resident_id_check_digit(first17)


def phone(seq: int) -> str:
    return f"139{seq:08d}"


def build_reference() -> dict:
    """A city, one department, one service item and an API client with every scope; returns its key."""
    with transaction.atomic():
        province = region_save(Region(code="430000", name="湖南省", level=Region.Level.PROVINCE))
        city = region_save(Region(code="430100", name="长沙市", level=Region.Level.CITY, parent=province))
        first17 = "11430100MB0000001"
        department = organisation_save(
            Organisation(
                name="长沙市压测局",
                kind=Organisation.Kind.DEPARTMENT,
                region=city,
                credit_code=first17 + credit_code_check_char(first17),
            )
        )
        item = ServiceItem.objects.create(
            code="11430100MB0000001-BENCH",
            name="压测事项",
            item_type="20",
            department=department,
            region=city,
            handling_kind=ServiceItem.HandlingKind.IMMEDIATE,
        )
        client = ApiClient(name=CLIENT_NAME, scopes=[s.value for s in ApiClient.Scope])
        key = client.set_new_key()
        client.save()
        client.regions.set([city])
    return {
        "api_key": key,
        "client_id": client.pk,
        "item_id": item.pk,
        "item_code": item.code,
        "department_id": department.pk,
        "region_id": city.pk,
    }


def identity_pool(size: int = IDENTITY_POOL) -> list[tuple]:
    pool = []
    for seq in range(size):
        ident = identity.Identity(name=f"申请人{seq}", id_number=resident_id(seq), phone=phone(seq))
        pool.append(
            (
                ident.name,
                ident.id_hash,
                ident.id_masked,
                ident.id_enc,
                ident.phone_hash,
                ident.phone_masked,
                ident.phone_enc,
            )
        )
    return pool


_CASE_FIELDS = ("case_no", *CASE_FIELDS, "created_at", "updated_at")


def insert_sql(model, attnames, using: str = "default") -> str:
    """A prepared INSERT for `attnames`; refuses if the model gained a required column it does not fill."""
    conn = connections[using]
    qn = conn.ops.quote_name
    fields = {f.attname: f for f in model._meta.concrete_fields if not f.primary_key}
    missing = [name for name, f in fields.items() if name not in attnames and not (f.null or f.has_default())]
    if missing:
        raise RuntimeError(f"{model._meta.db_table} 新增了必填字段 {missing}，压测数据生成需要更新")
    columns = ", ".join(qn(fields[name].column) for name in attnames)
    placeholders = ", ".join(["%s"] * len(attnames))
    return f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({placeholders})"


def create_cases(
    ref: dict, start: int, count: int, *, finished_ago=timedelta(days=1), using: str = "default"
) -> None:
    """Finished cases BENCH-<start> … BENCH-<start+count-1>, applicants from a pool, 10,000 per transaction."""
    conn = connections[using]
    adapt = conn.ops.adapt_datetimefield_value
    now = timezone.now()
    finished = adapt(now - finished_ago)
    accepted = adapt(now - finished_ago - timedelta(days=2))
    created = adapt(now)
    pool = identity_pool(min(IDENTITY_POOL, max(count, 1)))
    sql = insert_sql(Case, _CASE_FIELDS, using)
    head = (ref["item_id"], ref["department_id"], ref["region_id"], None, None, None, "1")
    tail = (
        Case.ApplyChannel.ONLINE.value,
        Case.Status.FINISHED.value,
        accepted,
        finished,
        None,
        ref["client_id"],
    )
    for begin in range(start, start + count, 10000):
        end = min(begin + 10000, start + count)
        rows = [(case_no(i), *head, *pool[i % len(pool)], *tail, created, created) for i in range(begin, end)]
        with transaction.atomic(using=using), conn.cursor() as cursor:
            cursor.executemany(sql, rows)


def applicant_of(index: int, pool_size: int) -> tuple[str, str, str]:
    """(name, ID number, phone) of the applicant create_cases gave case `index`."""
    seq = index % pool_size
    return f"申请人{seq}", resident_id(seq), phone(seq)
