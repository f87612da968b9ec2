"""`haocha import FILE --kind cases|ratings`: bulk load of history from a legacy system (CSV or JSON lines)."""

from django.core.management.base import BaseCommand, CommandError

from haocha.accounts.models import ApiClient
from haocha.evaluations.case_import import import_cases
from haocha.evaluations.importer import import_ratings
from haocha.evaluations.importfiles import DEFAULT_BATCH, guess_format


class Command(BaseCommand):
    help = (
        "批量导入办件或评价（CSV 或 JSON Lines，字段名采用国家“好差评”通用接口：projectNo、pf、satisfaction、"
        "evalDetail、writingEvaluation、assessTime、assessNumber 等）。每批一个事务，可重复执行（已导入的记录"
        "计为重复跳过），不合格记录写入拒绝文件。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV 或 JSONL 文件")
        parser.add_argument("--kind", required=True, choices=["cases", "ratings"], help="导入办件或评价")
        parser.add_argument("--format", choices=["csv", "jsonl"], help="默认按扩展名判断")
        parser.add_argument("--client", help="记录归属的接入系统名称（ApiClient.name）")
        parser.add_argument("--rejects", help="拒绝记录文件（默认 FILE.rejects.jsonl）")
        parser.add_argument(
            "--batch", type=int, default=DEFAULT_BATCH, help=f"每批条数（默认 {DEFAULT_BATCH}）"
        )
        parser.add_argument(
            "--encoding", default="utf-8-sig", help="CSV 编码（默认 utf-8-sig，可用 gb18030）"
        )
        parser.add_argument(
            "--work-orders",
            action="store_true",
            help="导入的差评也生成差评工单（与在线提交相同）；默认不生成，历史差评通常已在原系统处置",
        )
        parser.add_argument(
            "--sms-invitations",
            action="store_true",
            help="导入的近期办结办件也向申请人发送短信邀评（与在线登记相同）；默认不发送，历史办件通常已在原系统邀评",
        )
        parser.add_argument("--json", action="store_true", help="以 JSON 输出汇总")

    def handle(self, *args, **opts):
        client = None
        if opts["client"]:
            client = ApiClient.objects.filter(name=opts["client"]).first()
            if client is None:
                raise CommandError(f"接入系统“{opts['client']}”不存在")
        try:
            fmt = opts["format"] or guess_format(opts["file"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if opts["batch"] < 1:
            raise CommandError("--batch 须为正整数")
        if opts["work_orders"] and opts["kind"] != "ratings":
            raise CommandError("--work-orders 只用于导入评价")
        if opts["sms_invitations"] and opts["kind"] != "cases":
            raise CommandError("--sms-invitations 只用于导入办件")
        extra = {"work_orders": True} if opts["work_orders"] else {}
        if opts["sms_invitations"]:
            extra["sms_invitations"] = True
        run = import_ratings if opts["kind"] == "ratings" else import_cases
        verbose = opts["verbosity"] > 1 and not opts["json"]

        def progress(summary):
            self.stderr.write(f"已读取 {summary.read} 条，导入 {summary.imported} 条 …")

        try:
            summary = run(
                opts["file"],
                fmt=fmt,
                client=client,
                rejects_path=opts["rejects"],
                batch=opts["batch"],
                encoding=opts["encoding"],
                progress=progress if verbose else None,
                **extra,
            )
        except FileNotFoundError as exc:
            raise CommandError(f"文件不存在：{exc.filename}") from exc
        except (UnicodeDecodeError, ValueError) as exc:
            raise CommandError(f"无法读取文件：{exc}") from exc
        if opts["json"]:
            import orjson

            self.stdout.write(orjson.dumps(summary.as_dict()).decode())
        else:
            self.stdout.write(summary.text())
