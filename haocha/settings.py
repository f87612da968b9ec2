"""One env-driven settings module: SQLite by default, PostgreSQL with DATABASE_URL."""

from datetime import timedelta
from pathlib import Path

from haocha.env import database_from_url, env_bool, env_int, env_list, env_str
from haocha.keyfile import instance_keys

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("HAOCHA_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("HAOCHA_DEBUG", False)
# The secret keys: environment variables, else random keys generated once into VAR_DIR/keys.json (keyfile.py).
# IDENTITY_HASH_KEY matches ID numbers and phones (keyed hash); IDENTITY_ENCRYPTION_KEY encrypts them.
_KEYS = instance_keys(VAR_DIR)
SECRET_KEY = _KEYS["SECRET_KEY"]
IDENTITY_HASH_KEY = _KEYS["IDENTITY_HASH_KEY"]
IDENTITY_ENCRYPTION_KEY = _KEYS["IDENTITY_ENCRYPTION_KEY"]
ALLOWED_HOSTS = env_list("HAOCHA_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("HAOCHA_CSRF_TRUSTED_ORIGINS", [])
CSRF_FAILURE_VIEW = "haocha.core.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",
    "axes",
    "haocha.core",
    "haocha.accounts",
    "haocha.organisations",
    "haocha.catalogue",
    "haocha.evaluations",
    "haocha.workcalendar",
    "haocha.workorders",
    "haocha.channels",
    "haocha.integrations.sms",
    "haocha.integrations.docking",
    "haocha.integrations.province",
    "haocha.integrations.hotline12345",
    "haocha.integrations.performance",
    "haocha.analytics",
    "haocha.assessment",
    "haocha.mining",
    "haocha.publication",
    "haocha.demo",  # `haocha demo`
    "haocha.bench",  # `haocha bench`
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "haocha.core.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "haocha.core.middleware.DomainErrorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "haocha.urls"
WSGI_APPLICATION = "haocha.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "haocha" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "haocha.workcalendar.checks.calendar_warning_context",
                "haocha.workorders.views.unread_count",
                "haocha.accounts.menu.menu_context",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'haocha.sqlite3'}"), BASE_DIR)
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling by django-axes (accounts/lockout.py): failures of one username from one address lock
# that pair (the owner still signs in from another address); failures from one address over any usernames
# lock the address at a higher count. Both for the cool-off time; lockouts are audited.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "haocha.accounts.backends.RoleModelBackend"]
AXES_FAILURE_LIMIT = env_int("HAOCHA_LOGIN_FAILURE_LIMIT", 5)
AXES_ADDRESS_FAILURE_LIMIT = env_int("HAOCHA_LOGIN_ADDRESS_FAILURE_LIMIT", 30)
AXES_COOLOFF_TIME = timedelta(seconds=env_int("HAOCHA_LOGIN_FAILURE_WINDOW_SECONDS", 900))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "haocha.accounts.lockout.LockoutHandler"
AXES_LOCKOUT_CALLABLE = "haocha.accounts.lockout.locked_out_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/start/"  # each role's landing page (accounts/menu.py)

# One language, so no LocaleMiddleware: it would only add Content-Language and Vary: Accept-Language.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "haocha" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Bulk API limit (cases per request).
BULK_MAX_RECORDS = env_int("HAOCHA_BULK_MAX_RECORDS", 1000)
# The largest request body the embedded server (waitress) reads before answering 413.
HAOCHA_MAX_REQUEST_BYTES = env_int("HAOCHA_MAX_REQUEST_BYTES", 32 * 1024 * 1024)

# Links that leave the site (SMS, printed QR codes and notices) start with this address.
# The address citizens reach the site at, for links and QR codes that leave it (SMS, printed notices);
# unset, where `haocha serve` listens (HOST, PORT; `serve --host/--port` sets it too).
HAOCHA_PUBLIC_URL = env_str(
    "HAOCHA_PUBLIC_URL", f"http://{env_str('HOST', '127.0.0.1')}:{env_int('PORT', 8000)}"
)
# How long a signed rating link (QR code on a 办结 notice, SMS) stays valid, in natural days.
HAOCHA_RATING_LINK_DAYS = env_int("HAOCHA_RATING_LINK_DAYS", 60)
# Rating channels: the shortest time between two ratings on one hall tablet, and between two 一次一评
# ratings from one address through a window's QR code (seconds).
HAOCHA_TABLET_MIN_INTERVAL_SECONDS = env_int("HAOCHA_TABLET_MIN_INTERVAL_SECONDS", 30)
HAOCHA_QR_VISIT_INTERVAL_SECONDS = env_int("HAOCHA_QR_VISIT_INTERVAL_SECONDS", 600)
# Self-service terminal (docs/terminal.md): after IDLE seconds without a touch the page clears the citizen's
# session and returns to the start, counting down on screen for the last COUNTDOWN; the thanks page goes back
# after DONE seconds. The server forgets a terminal session untouched for SESSION seconds (also without
# JavaScript). IDCARD_AGENT_URL: the local ID-card reader agent the start page polls ('' = none).
HAOCHA_TERMINAL_IDLE_SECONDS = env_int("HAOCHA_TERMINAL_IDLE_SECONDS", 60)
HAOCHA_TERMINAL_COUNTDOWN_SECONDS = env_int("HAOCHA_TERMINAL_COUNTDOWN_SECONDS", 10)
HAOCHA_TERMINAL_DONE_SECONDS = env_int("HAOCHA_TERMINAL_DONE_SECONDS", 15)
HAOCHA_TERMINAL_SESSION_SECONDS = env_int("HAOCHA_TERMINAL_SESSION_SECONDS", 180)
HAOCHA_TERMINAL_IDCARD_AGENT_URL = env_str("HAOCHA_TERMINAL_IDCARD_AGENT_URL", "")
# SMS: the file backend writes var/sms/outbox.jsonl; see haocha/integrations/sms/backends.py.
HAOCHA_SMS_BACKEND = env_str("HAOCHA_SMS_BACKEND", "haocha.integrations.sms.backends.FileBackend")
# SMS provider (HttpBackend), webhooks, invitations: see haocha/integrations/sms/README.md.
HAOCHA_SMS_PROVIDER = env_str("HAOCHA_SMS_PROVIDER", "gateway")
HAOCHA_SMS_HTTP_URL = env_str("HAOCHA_SMS_HTTP_URL", "")
HAOCHA_SMS_HTTP_ACCOUNT = env_str("HAOCHA_SMS_HTTP_ACCOUNT", "")
HAOCHA_SMS_HTTP_KEY = env_str("HAOCHA_SMS_HTTP_KEY", "")
HAOCHA_SMS_HTTP_TIMEOUT = env_int("HAOCHA_SMS_HTTP_TIMEOUT", 10)
HAOCHA_SMS_HTTP_ID_FIELD = env_str("HAOCHA_SMS_HTTP_ID_FIELD", "message_id")
HAOCHA_SMS_SIGN_NAME = env_str("HAOCHA_SMS_SIGN_NAME", "长沙政务服务")
HAOCHA_SMS_WEBHOOK_SECRET = env_str("HAOCHA_SMS_WEBHOOK_SECRET", "")
HAOCHA_SMS_INVITATIONS = env_bool("HAOCHA_SMS_INVITATIONS", True)
HAOCHA_SMS_INVITE_MAX_AGE_HOURS = env_int("HAOCHA_SMS_INVITE_MAX_AGE_HOURS", 72)
HAOCHA_SMS_QUIET_HOURS = env_str("HAOCHA_SMS_QUIET_HOURS", "21:00-08:00")
HAOCHA_SMS_REMINDER_HOURS = env_int("HAOCHA_SMS_REMINDER_HOURS", 24)
HAOCHA_SMS_EXPIRE_DAYS = env_int("HAOCHA_SMS_EXPIRE_DAYS", 7)
# Docking (haocha/integrations/docking, docs/interface.md): this system's own region, and its parent (the
# upper-level system it uploads to; unset: no upload). Children are registered with `haocha docking child`.
HAOCHA_REGION_CODE = env_str("HAOCHA_REGION_CODE", "430100")
HAOCHA_PARENT_URL = env_str("HAOCHA_PARENT_URL", "")
HAOCHA_PARENT_APP_ID = env_str("HAOCHA_PARENT_APP_ID", "")
HAOCHA_PARENT_SECRET = env_str("HAOCHA_PARENT_SECRET", "")
# The parent's protocol: `haocha` (another haocha: HMAC-SHA256 under HAOCHA_PARENT_SECRET) or `provincial` (a
# provincial platform, haocha/integrations/province), signed per the agreement: hmac-sha256, hmac-sm3 or
# sm2-sm3 (this system's SM2 private key), the body SM4-encrypted when an SM4 key is set, the platform's
# answers checked when its SM2 public key is set. Checked at start (province/checks.py).
HAOCHA_PARENT_PROTOCOL = env_str("HAOCHA_PARENT_PROTOCOL", "haocha")
HAOCHA_PARENT_SIGNING = env_str("HAOCHA_PARENT_SIGNING", "hmac-sha256")
HAOCHA_PARENT_SM2_PRIVATE_KEY = env_str("HAOCHA_PARENT_SM2_PRIVATE_KEY", "")
HAOCHA_PARENT_SM2_PUBLIC_KEY = env_str("HAOCHA_PARENT_SM2_PUBLIC_KEY", "")
HAOCHA_PARENT_SM4_KEY = env_str("HAOCHA_PARENT_SM4_KEY", "")
HAOCHA_PARENT_SM4_MODE = env_str("HAOCHA_PARENT_SM4_MODE", "cbc")
HAOCHA_PROVINCE_PROJECT_PREFIX = env_str("HAOCHA_PROVINCE_PROJECT_PREFIX", "")
HAOCHA_DOCKING_BATCH = env_int("HAOCHA_DOCKING_BATCH", 500)
HAOCHA_DOCKING_TIMEOUT = env_int("HAOCHA_DOCKING_TIMEOUT", 30)
# A child silent this long inside working hours (9:00–17:00 on working days) is alerted.
HAOCHA_DOCKING_SILENT_MINUTES = env_int("HAOCHA_DOCKING_SILENT_MINUTES", 30)
# 12345 (haocha/integrations/hotline12345): a region's external platform is registered with `haocha
# hotline12345 platform`. The demo (`make run`) registers the stand-in platform for its city when
# HAOCHA_DEMO_12345=external, and `haocha serve --with-worker` then starts the stand-in on this port.
HAOCHA_DEMO_12345 = env_str("HAOCHA_DEMO_12345", "builtin")
HAOCHA_12345_STANDIN_PORT = env_int("HAOCHA_12345_STANDIN_PORT", 8012)
STANDIN_12345_FILE = VAR_DIR / "12345-standin.json"

# The 政务服务成效管理系统 (haocha/integrations/performance): per-unit monthly results and the annual assessment
# pushed there, signed HMAC-SHA256 under the shared secret. Unset URL: nothing is pushed.
HAOCHA_PERFORMANCE_URL = env_str("HAOCHA_PERFORMANCE_URL", "")
HAOCHA_PERFORMANCE_APP_ID = env_str("HAOCHA_PERFORMANCE_APP_ID", "")
HAOCHA_PERFORMANCE_SECRET = env_str("HAOCHA_PERFORMANCE_SECRET", "")
HAOCHA_PERFORMANCE_BATCH = env_int("HAOCHA_PERFORMANCE_BATCH", 200)
HAOCHA_PERFORMANCE_TIMEOUT = env_int("HAOCHA_PERFORMANCE_TIMEOUT", 30)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("HAOCHA_LOG_LEVEL", "WARNING")},
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
