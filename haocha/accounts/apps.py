from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "haocha.accounts"
    verbose_name = "账号与权限"

    def ready(self):
        from haocha.accounts import lockout  # noqa: F401  (audits lockouts: axes' user_locked_out signal)
