"""`haocha import --kind cases`: legacy cases upserted through cases_upsert, batch by batch."""

from django.db import transaction

from haocha.accounts.access import Actor
from haocha.accounts.models import ApiClient
from haocha.catalogue.caseno import normalise_case_no
from haocha.catalogue.models import Case
from haocha.catalogue.services import CaseInput, cases_upsert
from haocha.core import identity
from haocha.evaluations.importfiles import (
    DEFAULT_BATCH,
    ImportSummary,
    RecordError,
    chunks,
    field_text,
    parse_time,
    run_import,
)

_STATUS_WORDS = {s.label: s.value for s in Case.Status}
_APPLY_WORDS = {c.label: c.value for c in Case.ApplyChannel}


def import_cases(
    path,
    *,
    fmt: str | None = None,
    client: ApiClient | None = None,
    rejects_path=None,
    batch: int = DEFAULT_BATCH,
    encoding: str = "utf-8-sig",
    progress=None,
    sms_invitations: bool = False,
) -> ImportSummary:
    """Import (upsert) cases from a file through cases_upsert, batch by batch. History by default: the
    applicants of recently finished cases get no SMS invitation to rate unless `sms_invitations`."""
    importer = CaseImporter(client=client, sms_invitations=sms_invitations)
    return run_import("cases", path, fmt, importer, rejects_path, batch, encoding, progress)


def _case_input(rec: dict) -> CaseInput:
    case_no = normalise_case_no(field_text(rec, "projectNo"))
    status = field_text(rec, "proStatus")
    status = _STATUS_WORDS.get(status, status)
    channel = field_text(rec, "applyChannel")
    channel = _APPLY_WORDS.get(channel, channel) or Case.ApplyChannel.ONLINE
    accepted = field_text(rec, "acceptDate")
    if not accepted:
        raise RecordError("accepted_at_required", "须提供受理时间（acceptDate）")
    finished, promised = field_text(rec, "finishDate"), field_text(rec, "promiseTime")
    return CaseInput(
        case_no=case_no,
        item_code=field_text(rec, "taskCode"),
        applicant_type=field_text(rec, "userProp"),
        applicant_name=field_text(rec, "userName"),
        applicant_id_number=field_text(rec, "certKey"),
        applicant_phone=field_text(rec, "mobile"),
        department_code=field_text(rec, "proDepartCode"),
        window_code=field_text(rec, "windowCode"),
        staff_no=field_text(rec, "staffNo"),
        status=status,
        apply_channel=channel,
        accepted_at=parse_time(accepted, "受理时间"),
        finished_at=parse_time(finished, "办结时间") if finished else None,
        promised_at=parse_time(promised, "承诺办结时间") if promised else None,
    )


class CaseImporter:
    """Cases go through cases_upsert (already bulk); records identical to the stored case are skipped."""

    def __init__(self, *, client: ApiClient | None = None, sms_invitations: bool = False):
        self.client = client
        self.sms_invitations = sms_invitations
        scopes = frozenset(ApiClient.Scope.values)  # an operator's import: the client is only the source
        self.actor = Actor(label="导入", all_access=True, client=client, scopes=scopes)

    def _unchanged(self, inputs: list[tuple[int, CaseInput, dict]]) -> set[str]:
        """Case numbers whose stored case already says exactly what the record says."""
        stored = {}
        nos = [i[1].case_no for i in inputs]
        for chunk in chunks(nos):
            for row in Case.objects.filter(case_no__in=chunk).values(
                "case_no",
                "item__code",
                "item__department_id",
                "department_id",
                "department__credit_code",
                "window__code",
                "staff__staff_no",
                "applicant_type",
                "applicant_name",
                "applicant_id_hash",
                "applicant_phone_hash",
                "apply_channel",
                "status",
                "accepted_at",
                "finished_at",
                "promised_at",
                "source_id",
            ):
                stored[row["case_no"]] = row
        same = set()
        source_id = self.client.pk if self.client else None
        for _line, rec, _raw in inputs:
            row = stored.get(rec.case_no)
            if row is None:
                continue
            department_ok = (
                row["department__credit_code"] == rec.department_code
                if rec.department_code
                else row["department_id"] == row["item__department_id"]
            )
            if (
                department_ok
                and row["item__code"] == rec.item_code
                and (row["window__code"] or "") == rec.window_code
                and (row["staff__staff_no"] or "") == rec.staff_no
                and row["applicant_type"] == rec.applicant_type
                and row["applicant_name"] == rec.applicant_name.strip()[:100]
                and row["applicant_id_hash"]
                == identity.keyed_hash("id", identity.normalise_id_number(rec.applicant_id_number))
                and row["applicant_phone_hash"]
                == identity.keyed_hash("phone", identity.normalise_phone(rec.applicant_phone))
                and row["apply_channel"] == rec.apply_channel
                and row["status"] == rec.status
                and row["accepted_at"] == rec.accepted_at
                and row["finished_at"] == rec.finished_at
                and row["promised_at"] == rec.promised_at
                and row["source_id"] == source_id
            ):
                same.add(rec.case_no)
        return same

    def run_batch(self, batch: list, summary: ImportSummary) -> list[tuple]:
        rejects: list[tuple] = []
        inputs: list[tuple[int, CaseInput, dict]] = []
        for line, record, error in batch:
            if error:
                rejects.append((line, *error, record))
                continue
            try:
                inputs.append((line, _case_input(record), record))
            except RecordError as exc:
                rejects.append((line, exc.code, exc.message, record))
        created = updated = duplicates = 0
        # A case number repeated in the file is applied in file order: one upsert call per run of
        # distinct numbers, all inside the batch's one transaction.
        runs: list[list] = [[]]
        seen: set[str] = set()
        for item in inputs:
            if item[1].case_no in seen:
                runs.append([])
                seen = set()
            seen.add(item[1].case_no)
            runs[-1].append(item)
        outcome: list[tuple] = []
        with transaction.atomic():
            for run in runs:
                if not run:
                    continue
                same = self._unchanged(run)
                todo = [i for i in run if i[1].case_no not in same]
                duplicates += len(run) - len(todo)
                results = (
                    cases_upsert(actor=self.actor, records=[i[1] for i in todo], invite=self.sms_invitations)
                    if todo
                    else []
                )
                outcome.extend(zip(todo, results, strict=True))
        for (line, _rec, raw), result in outcome:
            if result.status == "created":
                created += 1
            elif result.status == "updated":
                updated += 1
            else:
                rejects.append((line, result.code, result.message, raw))
        summary.updated += updated
        summary.add(rejects, created, duplicates)
        return rejects
