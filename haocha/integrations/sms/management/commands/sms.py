"""`haocha sms status | send-test | sweep | retry-failed`: look at and drive the SMS channel by hand."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from haocha.core import identity
from haocha.core.models import OutboxMessage
from haocha.core.outbox import outbox_process
from haocha.evaluations.defaults import default_ratings_sweep
from haocha.integrations.sms.invitations import sms_sweep
from haocha.integrations.sms.models import SmsInvitation, SmsMessage, SmsOptOut
from haocha.integrations.sms.outgoing import TOPIC, sms_enqueue


class Command(BaseCommand):
    help = "短信评价渠道：状态、发送测试短信、运行邀评扫描（提醒、过期）与系统默认评价、重发失败短信"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("status", help="邀评、短信、退订的数量与网关配置")
        test = sub.add_parser("send-test", help="经待发消息队列发送一条测试短信")
        test.add_argument("--phone", required=True)
        test.add_argument("--text", default="这是一条测试短信。")
        test.add_argument("--now", action="store_true", help="立即投递（不等待后台任务）")
        sub.add_parser("sweep", help="运行一次邀评扫描与系统默认评价扫描")
        sub.add_parser("retry-failed", help="把发送失败（已放弃）的短信重新放回队列")

    def handle(self, *args, action, **opts):
        getattr(self, "_" + action.replace("-", "_"))(**opts)

    def _status(self, **opts):
        self.stdout.write(f"短信网关：{settings.HAOCHA_SMS_BACKEND}（{settings.HAOCHA_SMS_PROVIDER}）")
        self.stdout.write(f"免打扰时段（默认）：{settings.HAOCHA_SMS_QUIET_HOURS or '无'}")
        by_status = dict(SmsInvitation.objects.values_list("status").annotate(n=Count("pk")).order_by())
        self.stdout.write("短信邀评：")
        for value, label in SmsInvitation.Status.choices:
            self.stdout.write(f"  {label}：{by_status.get(value, 0)}")
        messages = dict(SmsMessage.objects.values_list("status").annotate(n=Count("pk")).order_by())
        self.stdout.write(
            "短信："
            + "，".join(f"{label} {messages.get(value, 0)}" for value, label in SmsMessage.Status.choices)
        )
        outbox = dict(
            OutboxMessage.objects.filter(topic=TOPIC).values_list("status").annotate(n=Count("pk")).order_by()
        )
        self.stdout.write(
            f"待发队列：待发送 {outbox.get('pending', 0)}，已完成 {outbox.get('done', 0)}，"
            f"失败 {outbox.get('dead', 0)}"
        )
        self.stdout.write(f"退订号码：{SmsOptOut.objects.count()}")

    def _send_test(self, *, phone, text, now, **opts):
        if not identity.is_valid_phone(phone):
            raise CommandError("手机号码格式不正确")
        key = f"test:{timezone.now():%Y%m%d%H%M%S%f}"
        with transaction.atomic():
            sms_enqueue(phone=phone, text=text, key=key, purpose="test")
        self.stdout.write(f"已加入发送队列：{identity.mask_phone(phone)}（{key}）")
        if now:
            counts = outbox_process()
            message = SmsMessage.objects.get(key=key)
            self.stdout.write(
                f"投递：成功 {counts['done']}，重试 {counts['retry']}，失败 {counts['dead']}；"
                f"本条状态：{message.get_status_display()} {message.provider_message_id}".rstrip()
            )

    def _sweep(self, **opts):
        sms = sms_sweep()
        defaults = default_ratings_sweep()
        self.stdout.write(
            f"短信邀评：发送 {sms['sent']}，提醒 {sms['reminded']}，过期 {sms['expired']}，"
            f"已由其他渠道评价 {sms['closed']}，失败 {sms['failed']}，重新排队 {sms['retried']}"
        )
        self.stdout.write(f"系统默认评价：生成 {defaults['created']}，跳过 {defaults['skipped']}")

    def _retry_failed(self, **opts):
        """Dead SMS outbox rows go back to pending (an invitation already marked failed stays failed: its text is cancelled, not sent late)."""
        with transaction.atomic():
            rows = OutboxMessage.objects.filter(topic=TOPIC, status=OutboxMessage.Status.DEAD)
            keys = [k.removeprefix("sms:") for k in rows.values_list("key", flat=True)]
            n = rows.update(status=OutboxMessage.Status.PENDING, attempts=0, next_attempt_at=timezone.now())
            SmsMessage.objects.filter(key__in=keys, status=SmsMessage.Status.FAILED).update(
                status=SmsMessage.Status.QUEUED, error=""
            )
        self.stdout.write(f"已重新放回队列：{n} 条")
