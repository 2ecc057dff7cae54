"""servicehall settings, read from environment variables (see README "Configuration").

SERVICEHALL_DEPLOYMENT selects the security posture:
- "production" (default): secrets and hosts must be given; HTTPS-only cookies, HSTS, SSL redirect.
- "local": the embedded demo on the loopback interface (what `make run` uses); a secret key is
  generated once under var/ and cookies work over plain HTTP.
"""

import secrets
from pathlib import Path

import dj_database_url

from servicehall.config.environment import (
    ConfigurationError,
    env_bool,
    env_int,
    env_list,
    env_string,
)

PACKAGE_DIRECTORY = Path(__file__).resolve().parent.parent
PROJECT_DIRECTORY = PACKAGE_DIRECTORY.parent.parent
VAR_DIRECTORY = Path(env_string("SERVICEHALL_VAR_DIR", str(PROJECT_DIRECTORY / "var")))

DEPLOYMENT = env_string("SERVICEHALL_DEPLOYMENT", "production")
if DEPLOYMENT not in {"production", "local"}:
    raise ConfigurationError(
        "SERVICEHALL_DEPLOYMENT 只能是 production 或 local / must be production or local"
    )
IS_LOCAL = DEPLOYMENT == "local"

DEBUG = env_bool("DEBUG", False)
if DEBUG and not IS_LOCAL:
    raise ConfigurationError("生产环境不得开启 DEBUG / DEBUG is not allowed in production")


def _local_secret_key() -> str:
    key_file = VAR_DIRECTORY / "secret_key"
    if not key_file.exists():
        VAR_DIRECTORY.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = env_string("SECRET_KEY") if not IS_LOCAL else env_string("SECRET_KEY", "") or _local_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if IS_LOCAL else [])
if not ALLOWED_HOSTS:
    raise ConfigurationError("生产环境必须设置 ALLOWED_HOSTS / ALLOWED_HOSTS is required in production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Listed so /api/docs serves Swagger UI from ninja's packaged static files, not from a CDN.
    "ninja",
    "servicehall.sites",
    "servicehall.accounts",
    "servicehall.audit",
    "servicehall.workdays",
    "servicehall.catalog",
    "servicehall.conduct",
    "servicehall.supervision",
    "servicehall.queueing",
    "servicehall.cases",
    "servicehall.duty",
    "servicehall.feedback",
    "servicehall.assessment",
    "servicehall.web",
    "servicehall.api",
    "servicehall.operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "servicehall.accounts.sessions.SlidingSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "servicehall.web.middleware.RejectNullCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "servicehall.audit.middleware.RequestContextMiddleware",
    "servicehall.accounts.middleware.StaffLanguageMiddleware",
    "servicehall.accounts.middleware.SecurityPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "servicehall.config.urls"
WSGI_APPLICATION = "servicehall.config.wsgi.application"
ASGI_APPLICATION = "servicehall.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "servicehall.web.context_processors.navigation",
                "servicehall.web.context_processors.calendar_warning",
            ],
        },
    },
]

# The embedded default is SQLite in WAL mode with IMMEDIATE transactions: concurrent writers queue
# on the busy timeout instead of failing with "database is locked" on lock upgrade.
SQLITE_PATH = VAR_DIRECTORY / "servicehall.sqlite3"
DATABASE_URL = env_string("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
    }
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": SQLITE_PATH}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
        ),
    }
# Under ASGI each request runs its synchronous code in a thread of its own, so a persistent
# connection (CONN_MAX_AGE) is never reused; a production PostgreSQL deployment sets a pool size and
# every request borrows a connection from Django's psycopg pool instead of opening one (ADR 0008).
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 0, minimum=0)
if DATABASE_POOL_MAX_SIZE and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(4, DATABASE_POOL_MAX_SIZE),
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": env_int("DATABASE_POOL_TIMEOUT", 30, minimum=1),
    }
# Django turns psycopg's prepared statements off (for transaction-mode poolers such as PgBouncer),
# and then even an explicit ``prepare=True`` is ignored: the calling path's statements were planned
# afresh on every call. Its ORM queries bind on the client and are never prepared either way; only the
# hot paths' server-binding cursors are (queueing.actions._HotCursor). 0 turns preparing off again.
DATABASE_PREPARE_THRESHOLD = env_int("DATABASE_PREPARE_THRESHOLD", 5, minimum=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = DATABASE_PREPARE_THRESHOLD or None
DATABASES["default"].setdefault("TEST", {})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["servicehall.accounts.backends.StaffAuthenticationBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# 等保 2.0 level 3 assessment values; each can be tightened per deployment.
SERVICEHALL_LOCKOUT_THRESHOLD = env_int("SERVICEHALL_LOCKOUT_THRESHOLD", 5, minimum=1)
SERVICEHALL_LOCKOUT_MINUTES = env_int("SERVICEHALL_LOCKOUT_MINUTES", 30, minimum=1)
SERVICEHALL_PASSWORD_MIN_LENGTH = env_int("SERVICEHALL_PASSWORD_MIN_LENGTH", 8, minimum=8)
SERVICEHALL_PASSWORD_MIN_CHARACTER_CLASSES = env_int(
    "SERVICEHALL_PASSWORD_MIN_CHARACTER_CLASSES", 3, minimum=1
)
SERVICEHALL_PASSWORD_MAX_AGE_DAYS = env_int("SERVICEHALL_PASSWORD_MAX_AGE_DAYS", 90, minimum=1)
SERVICEHALL_IDLE_TIMEOUT_MINUTES = env_int("SERVICEHALL_IDLE_TIMEOUT_MINUTES", 30, minimum=1)
# 网络安全法 第二十一条: network logs are kept for no less than six months.
SERVICEHALL_AUDIT_RETENTION_DAYS = env_int("SERVICEHALL_AUDIT_RETENTION_DAYS", 180, minimum=180)
# 好差评 (issue 7): how long a service can be rated later by QR code or online; the 差评 整改 deadline in
# working days (some cities use 5 or 7); more ratings than BURST_COUNT from one source within BURST_SECONDS
# are held for review.
SERVICEHALL_RATING_WINDOW_DAYS = env_int("SERVICEHALL_RATING_WINDOW_DAYS", 7, minimum=1)
SERVICEHALL_RECTIFICATION_WORKING_DAYS = env_int("SERVICEHALL_RECTIFICATION_WORKING_DAYS", 15, minimum=1)
SERVICEHALL_RATING_BURST_COUNT = env_int("SERVICEHALL_RATING_BURST_COUNT", 5, minimum=1)
SERVICEHALL_RATING_BURST_SECONDS = env_int("SERVICEHALL_RATING_BURST_SECONDS", 60, minimum=1)
# 文明用语 (issue 8): a confirmed finding whose highest severity reaches this becomes a violation record.
SERVICEHALL_CONDUCT_VIOLATION_MIN_SEVERITY = env_int(
    "SERVICEHALL_CONDUCT_VIOLATION_MIN_SEVERITY", 2, minimum=1
)
# 电子监察 (issue 4): a case turns yellow when at most this many working days, or this percentage of its
# limit, is left (whichever warns earlier).
SERVICEHALL_CASES_YELLOW_WORKING_DAYS = env_int("SERVICEHALL_CASES_YELLOW_WORKING_DAYS", 2, minimum=0)
SERVICEHALL_CASES_YELLOW_SHARE = min(100, env_int("SERVICEHALL_CASES_YELLOW_PERCENT", 20, minimum=0)) / 100
SERVICEHALL_CENTRE_NAME = env_string("SERVICEHALL_CENTRE_NAME", "中山市政务服务中心")
# The hall (issue 5): appointment changes, phone tickets from the entrance QR code, SMS-style notices.
SERVICEHALL_APPOINTMENT_CHANGE_MINUTES = env_int("SERVICEHALL_APPOINTMENT_CHANGE_MINUTES", 30, minimum=0)
SERVICEHALL_MOBILE_TICKETS_PER_CLIENT = env_int("SERVICEHALL_MOBILE_TICKETS_PER_CLIENT", 6, minimum=1)
SERVICEHALL_MOBILE_TICKETS_WINDOW_SECONDS = env_int(
    "SERVICEHALL_MOBILE_TICKETS_WINDOW_SECONDS", 600, minimum=1
)
SERVICEHALL_SMS_NEAR_AHEAD = env_int("SERVICEHALL_SMS_NEAR_AHEAD", 3, minimum=0)
# Dotted path of the notice sender; empty means the outbox-only sender (no gateway on the intranet).
SERVICEHALL_SMS_SENDER = env_string("SERVICEHALL_SMS_SENDER", "")
# The address citizens' phones reach the centre at, for QR codes and notice links; empty: the request's.
SERVICEHALL_PUBLIC_URL = env_string("SERVICEHALL_PUBLIC_URL", "")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": SERVICEHALL_PASSWORD_MIN_LENGTH},
    },
    {
        "NAME": "servicehall.accounts.password_policy.CharacterClassValidator",
        "OPTIONS": {"minimum_classes": SERVICEHALL_PASSWORD_MIN_CHARACTER_CLASSES},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SESSION_COOKIE_AGE = SERVICEHALL_IDLE_TIMEOUT_MINUTES * 60
# The idle timeout slides: a request renews the session row when its last renewal is older than this
# (servicehall.accounts.sessions), instead of writing the row on every request.
SERVICEHALL_SESSION_RENEW_SECONDS = env_int("SERVICEHALL_SESSION_RENEW_SECONDS", 60, minimum=0)
SESSION_ENGINE = "servicehall.accounts.sessions"
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

HTTPS_ONLY = env_bool("SERVICEHALL_HTTPS", not IS_LOCAL)
SECURE_SSL_REDIRECT = HTTPS_ONLY and env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS_ONLY else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS_ONLY
SECURE_HSTS_PRELOAD = HTTPS_ONLY
if env_bool("SERVICEHALL_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

OTP_TOTP_ISSUER = env_string("OTP_TOTP_ISSUER", "servicehall")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIRECTORY / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_string("STATIC_ROOT", str(VAR_DIRECTORY / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production serves hashed, compressed files collected at deploy time; the local demo and the
    # test suite serve straight from the apps' static folders.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if IS_LOCAL
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = IS_LOCAL or DEBUG
if IS_LOCAL:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = VAR_DIRECTORY / "media"

REDIS_URL = env_string("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"personal_data": {"()": "servicehall.lib.redaction.PersonalDataRedactingFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["personal_data"]},
    },
    "root": {"handlers": ["console"], "level": env_string("LOG_LEVEL", "INFO")},
    "loggers": {
        # Request bodies and POST data never go to the error report: they may carry 身份证号.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
DEFAULT_EXCEPTION_REPORTER_FILTER = "servicehall.audit.reporting.PersonalDataExceptionReporterFilter"
ADMINS: list[tuple[str, str]] = []
