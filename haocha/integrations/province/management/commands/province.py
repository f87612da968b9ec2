"""`haocha province keygen | standin`: keys for a provincial agreement, and the stand-in platform."""

import argparse
import secrets

from django.core.management.base import BaseCommand

from haocha.integrations.docking import gm
from haocha.integrations.province import standin


class Command(BaseCommand):
    help = "省级平台对接：生成国密密钥；启动模拟省级平台（测试与演示用）"
    requires_system_checks = []  # the stand-in is another party: this system's settings are not its own

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("keygen", help="生成一对 SM2 密钥和一个 SM4 密钥（打印一次，请妥善保存）")
        standin.add_arguments(
            sub.add_parser("standin", help="启动模拟省级平台（独立进程，打印 PORT <端口>）")
        )

    def handle(self, *args, action, **opts):
        if action == "keygen":
            private, public = gm.sm2_keypair()
            self.stdout.write("本系统保存（不外传）：")
            self.stdout.write(f"  HAOCHA_PARENT_SM2_PRIVATE_KEY={private}")
            self.stdout.write("交给省级平台登记（本系统的 SM2 公钥）：")
            self.stdout.write(f"  {public}")
            self.stdout.write("双方约定的 SM4 密钥（报文加密时）：")
            self.stdout.write(f"  HAOCHA_PARENT_SM4_KEY={secrets.token_hex(16)}")
        else:
            standin.serve(argparse.Namespace(**opts), out=self.stdout)
