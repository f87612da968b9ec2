"""`haocha regions load [--province 43] [--with-streets] [--with-zones] [--file ORGS.csv] [--dry-run]`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from haocha.organisations import divisions
from haocha.organisations.services import (
    OrganisationFileError,
    organisations_load,
    read_organisations_csv,
    regions_load,
)

LEVEL_NAMES = {1: "省", 2: "市州", 3: "县市区", 4: "乡镇街道"}


class Command(BaseCommand):
    help = "行政区划与组织机构参考数据：载入一个省的 GB/T 2260 区划（及其部门名录）"
    requires_system_checks = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser(
            "load", help="载入或更正一个省的省、市州、县市区（可含乡镇街道）；已有区划保留，名称不同者更正"
        )
        load.add_argument("--province", default="43", help="省级代码，2 位或 6 位（默认 43 湖南省）")
        load.add_argument("--with-streets", action="store_true", help="同时载入乡镇街道（9 位代码）")
        load.add_argument(
            "--with-zones",
            action="store_true",
            help="同时载入国家统计局统计用功能区（经开区、管理区等，代码第5-6位71-80，不属 GB/T 2260）",
        )
        load.add_argument(
            "--file",
            help="组织机构 CSV：name,kind,credit_code,region（或 名称,类型,统一社会信用代码,区划代码）",
        )
        load.add_argument("--dry-run", action="store_true", help="只统计，不写入")

    def handle(self, *args, action, **opts):
        province = opts["province"].strip()
        if (
            not province.isdigit()
            or len(province) not in (2, 6)
            or (len(province) == 6 and province[2:] != "0000")
        ):
            raise CommandError(f"省级代码应为 2 位或以 0000 结尾的 6 位数字：{province}")
        path = divisions.data_file(province)
        if not path.exists():
            have = "、".join(divisions.available_provinces()) or "无"
            raise CommandError(
                f"没有 {province[:2]} 的区划数据（已有：{have}）；可用 tools/regions_data.py --province {province[:2]} 生成"
            )
        header, rows = divisions.read_csv(path)
        if opts["with_streets"]:
            rows += divisions.read_csv(divisions.data_file(province, streets=True))[1]
        if not opts["with_zones"]:
            rows = [d for d in rows if not d.is_zone]
        org_rows = None
        if opts["file"]:
            org_path = Path(opts["file"])
            if not org_path.exists():
                raise CommandError(f"文件不存在：{org_path}")
            try:
                org_rows = read_organisations_csv(org_path.read_text(encoding="utf-8-sig"))
            except OrganisationFileError as exc:
                raise CommandError(str(exc)) from exc
        source = next((h.removeprefix("source: npm ") for h in header if h.startswith("source:")), path.name)
        source = source.split(" (")[0]
        try:
            with transaction.atomic():
                summary = regions_load(rows)
                orgs = organisations_load(org_rows) if org_rows is not None else None
                transaction.set_rollback(opts["dry_run"])
        except (ValueError, OrganisationFileError) as exc:
            raise CommandError(str(exc)) from exc
        counts = "，".join(
            f"{LEVEL_NAMES[lvl]} {sum(1 for d in rows if d.level == lvl)}"
            for lvl in sorted({d.level for d in rows})
        )
        self.stdout.write(
            f"{rows[0].name}（{rows[0].code}）行政区划 {len(rows)} 个：{counts}（数据：{source}）"
        )
        for line in summary.changes:
            self.stdout.write(f"  更正 {line}")
        dry = "（试运行，未写入）" if opts["dry_run"] else ""
        self.stdout.write(
            f"区划：新增 {summary.created}，更新 {summary.updated}，未变 {summary.unchanged}{dry}"
        )
        if orgs is not None:
            self.stdout.write(
                f"组织机构：新增 {orgs.created}，更新 {orgs.updated}，未变 {orgs.unchanged}{dry}"
            )
