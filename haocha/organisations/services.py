"""Write functions for the organisation tree."""

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from haocha.organisations.divisions import Division
from haocha.organisations.models import Organisation, Region


def region_save(region: Region) -> Region:
    """Save a region and keep its code path (and its descendants') consistent."""
    with transaction.atomic():
        old_path = region.path
        prefix = region.parent.path if region.parent_id else "/"
        region.path = f"{prefix}{region.code}/"
        region.save()
        if old_path and old_path != region.path:
            for child in Region.objects.filter(path__startswith=old_path).exclude(pk=region.pk):
                child.path = region.path + child.path[len(old_path) :]
                child.save(update_fields=["path"])
    return region


def organisation_save(org: Organisation) -> Organisation:
    """Save an organisation and keep its id path (and its descendants') consistent."""
    with transaction.atomic():
        if org.pk is None:
            org.path = ""
            org.save()
        old_path = org.path
        if org.parent_id:
            parent = Organisation.objects.only("path").get(pk=org.parent_id)
            if f"/{org.pk}/" in parent.path:
                raise ValueError("上级机构不能是本机构或其下级机构")
            org.path = f"{parent.path}{org.pk}/"
        else:
            org.path = f"/{org.pk}/"
        org.save()
        if old_path and old_path != org.path:
            for child in Organisation.objects.filter(path__startswith=old_path).exclude(pk=org.pk):
                child.path = org.path + child.path[len(old_path) :]
                child.save(update_fields=["path"])
    return org


@dataclass
class LoadSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list[str] = field(default_factory=list)  # "430102 旧名 → 新名" and the like, for the report


def regions_load(rows: list[Division]) -> LoadSummary:
    """Upsert regions by code, parents before children: an existing row keeps its pk and is saved only where
    its name, level or parent differ (region_save then moves its subtree's paths). All or nothing."""
    summary = LoadSummary()
    existing = {r.code: r for r in Region.objects.filter(code__in=[d.code for d in rows])}
    by_code: dict[str, Region] = {}
    with transaction.atomic():
        for d in sorted(rows, key=lambda d: (d.level, d.code)):
            parent = None
            if d.parent:
                parent = by_code.get(d.parent) or Region.objects.filter(code=d.parent).first()
                if parent is None:
                    raise ValueError(f"{d.code} {d.name} 的上级区划 {d.parent} 不存在")
            region = existing.get(d.code)
            if region is None:
                region = region_save(Region(code=d.code, name=d.name, level=d.level, parent=parent))
                summary.created += 1
            else:
                diff = []
                if region.name != d.name:
                    diff.append(f"名称 {region.name} → {d.name}")
                if region.level != d.level:
                    diff.append(f"层级 {region.level} → {d.level}")
                if region.parent_id != (parent.pk if parent else None):
                    old = region.parent.code if region.parent_id else "无"
                    diff.append(f"上级 {old} → {d.parent or '无'}")
                if diff:
                    region.name, region.level, region.parent = d.name, d.level, parent
                    region_save(region)
                    summary.updated += 1
                    summary.changes.append(f"{d.code}：{'；'.join(diff)}")
                else:
                    summary.unchanged += 1
            by_code[d.code] = region
    return summary


# Columns of an organisations file (`haocha regions load --file`), by English or Chinese header.
ORGANISATION_COLUMNS = {
    "name": "name",
    "名称": "name",
    "kind": "kind",
    "类型": "kind",
    "credit_code": "credit_code",
    "统一社会信用代码": "credit_code",
    "region": "region",
    "区划代码": "region",
    "short_name": "short_name",
    "简称": "short_name",
    "address": "address",
    "地址": "address",
    "phone": "phone",
    "咨询电话": "phone",
}
ORGANISATION_REQUIRED = ("name", "kind", "region")


class OrganisationFileError(ValueError):
    """The file's every fault, one "第 n 行：…" a line; nothing was written."""


def read_organisations_csv(text: str) -> list[tuple[int, dict]]:
    """(line number, row with English keys) of a CSV file of organisations; unknown columns are ignored."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = {h: ORGANISATION_COLUMNS.get((h or "").strip()) for h in reader.fieldnames or []}
    missing = [c for c in ORGANISATION_REQUIRED if c not in header.values()]
    if missing:
        raise OrganisationFileError(
            f"缺少列：{'、'.join(missing)}（应有 name,kind,credit_code,region 或 名称,类型,统一社会信用代码,区划代码）"
        )
    return [
        (reader.line_num, {header[k]: (v or "").strip() for k, v in row.items() if header.get(k)})
        for row in reader
    ]


def organisations_load(rows: list[tuple[int, dict]]) -> LoadSummary:
    """Upsert organisations, by credit code where there is one, else by name within the region. Every row is
    checked first (kind, region, credit code and its check character, duplicates in the file); any fault and
    nothing is written."""
    kinds = {v: v for v in Organisation.Kind.values} | {label: v for v, label in Organisation.Kind.choices}
    codes = {r[1]["region"] for r in rows}
    regions = {r.code: r for r in Region.objects.filter(code__in=codes)}
    errors, seen, plan = [], {}, []
    for line, row in rows:
        faults = []
        kind = kinds.get(row.get("kind", ""))
        if kind is None:
            faults.append(
                f"类型 {row.get('kind') or '（空）'} 无法识别（{'、'.join(Organisation.Kind.labels)}）"
            )
        region = regions.get(row["region"])
        if region is None:
            faults.append(f"区划代码 {row['region'] or '（空）'} 不存在（先载入区划）")
        credit = row.get("credit_code", "").upper()
        key = credit or f"{row['region']}/{row['name']}"
        if key in seen:
            faults.append(f"与第 {seen[key]} 行重复")
        seen.setdefault(key, line)
        if not row["name"]:
            faults.append("名称为空")
        if not faults:
            org = (
                Organisation.objects.filter(credit_code=credit).first()
                if credit
                else Organisation.objects.filter(region=region, name=row["name"], credit_code="").first()
            )
            new = org is None
            if new:
                org = Organisation(kind=kind, region=region)
            before = {f: getattr(org, f) for f in ("name", "kind", "credit_code", "region_id")}
            before |= {f: getattr(org, f) for f in ("short_name", "address", "phone") if f in row}
            org.name, org.kind, org.credit_code, org.region = row["name"], kind, credit, region
            for f in ("short_name", "address", "phone"):
                if f in row:
                    setattr(org, f, row[f])
            try:
                org.full_clean(exclude=["parent", "path"])
            except ValidationError as exc:
                faults.extend(m for ms in exc.message_dict.values() for m in ms)
            else:
                after = {f: getattr(org, f) for f in before}
                plan.append((org, new, before != after))
        errors.extend(f"第 {line} 行：{f}" for f in faults)
    if errors:
        raise OrganisationFileError("\n".join(errors))
    summary = LoadSummary()
    with transaction.atomic():
        for org, new, changed in plan:
            if new or changed:
                organisation_save(org)
            summary.created += new
            summary.updated += changed and not new
            summary.unchanged += not (new or changed)
    return summary
