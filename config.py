"""Configuration classes, read once from environment variables.

Every setting an operator may change is listed in the README under
"Configuration". A config object is built by ``load_config(name)``; tests build
their own (``TestingConfig``) and pass it to ``create_app``.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent
INSTANCE_PATH = Path(os.environ.get("INSTANCE_PATH", PROJECT_ROOT / "instance"))


class ConfigError(RuntimeError):
    """The environment does not describe a configuration the app can run with."""


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from exc


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str, name: str = "INTAKE_RATE_LIMIT_EXEMPT_NETWORKS") -> tuple[Network, ...]:
    """Networks in CIDR notation, separated by commas or spaces ("203.0.113.0/24, 2001:db8::/32")."""
    networks = []
    for part in value.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(part, strict=True))
        except ValueError as exc:
            raise ConfigError(f"{name}: {part!r} is not a network like 203.0.113.0/24 ({exc})") from exc
    return tuple(networks)


STATIC_DIR = PROJECT_ROOT / "inquiry_desk" / "static"
ICON_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}


def _static_file(env: Mapping[str, str], name: str, default: str) -> str:
    """A path under inquiry_desk/static/ that exists, like "img/logo.svg"; empty for none."""
    value = env.get(name, default).strip().lstrip("/")
    if not value:
        return ""
    path = (STATIC_DIR / value).resolve()
    if "://" in value or not path.is_relative_to(STATIC_DIR.resolve()) or not path.is_file():
        raise ConfigError(f"{name} must name a file under inquiry_desk/static/, like img/logo.svg, not {value!r}")
    if Path(value).suffix.lower() not in ICON_TYPES:
        raise ConfigError(f"{name} must be an .svg, .png or .ico file, not {value!r}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, not {value!r}") from exc


def _development_secret_key() -> str:
    """A secret kept in the instance folder so that sessions survive restarts."""
    INSTANCE_PATH.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_PATH / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def default_sqlite_url() -> str:
    INSTANCE_PATH.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_PATH / 'inquiry_desk.sqlite3'}"


class BaseConfig:
    """Settings shared by every environment; subclasses change what differs."""

    ENV_NAME = "base"
    DEBUG = False
    TESTING = False

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.SECRET_KEY = env.get("SECRET_KEY") or self.missing_secret_key()
        database_url = env.get("DATABASE_URL") or default_sqlite_url()
        # Heroku-style URLs name the old driver; psycopg 3 is the one we ship.
        if database_url.startswith("postgres://"):
            database_url = "postgresql://" + database_url[len("postgres://"):]
        if database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
        self.SQLALCHEMY_DATABASE_URI = database_url
        # pre-ping: a connection the database dropped (a restart) is replaced before use; recycle: none is kept
        # longer than a proxy or firewall would keep it idle.
        self.SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] = {
            "pool_pre_ping": True,
            "pool_recycle": _int(env, "DATABASE_POOL_RECYCLE", 1800),
            # An error's text never carries the statement's parameters (bodies, addresses) into a log.
            "hide_parameters": True,
        }
        if not database_url.startswith("sqlite"):
            # Per process: each gunicorn worker (and the scheduler) holds at most size + overflow connections.
            self.SQLALCHEMY_ENGINE_OPTIONS["pool_size"] = _int(env, "DATABASE_POOL_SIZE", 5)
            self.SQLALCHEMY_ENGINE_OPTIONS["max_overflow"] = _int(env, "DATABASE_MAX_OVERFLOW", 5)
            self.SQLALCHEMY_ENGINE_OPTIONS["pool_timeout"] = _int(env, "DATABASE_POOL_TIMEOUT", 10)
        self.SQLALCHEMY_RECORD_QUERIES = False
        # PostgreSQL: the role the app runs as, granted what it needs by each `flask db upgrade` (run as the owner).
        self.DATABASE_APP_ROLE = env.get("DATABASE_APP_ROLE", "").strip()

        self.MAIL_BACKEND = env.get("MAIL_BACKEND", "outbox")
        if self.MAIL_BACKEND not in {"outbox", "smtp", "memory"}:
            raise ConfigError(f"MAIL_BACKEND must be outbox, smtp or memory, not {self.MAIL_BACKEND!r}")
        self.MAIL_OUTBOX_DIR = env.get("MAIL_OUTBOX_DIR", str(PROJECT_ROOT / "outbox"))
        self.MAIL_FROM = env.get("MAIL_FROM", "Inquiry Desk <inquiries@example.org>")
        self.MAIL_REPLY_TO = env.get("MAIL_REPLY_TO", "")
        self.MAIL_TEAM_ADDRESS = env.get("MAIL_TEAM_ADDRESS", "")
        # The language of the emails to MAIL_TEAM_ADDRESS (new-inquiry notices, reminders).
        self.MAIL_TEAM_LANGUAGE = env.get("MAIL_TEAM_LANGUAGE", "en")
        if self.MAIL_TEAM_LANGUAGE not in {"en", "fr"}:
            raise ConfigError(f"MAIL_TEAM_LANGUAGE must be en or fr, not {self.MAIL_TEAM_LANGUAGE!r}")
        # The sender's name in French emails (MAIL_FROM's address, this name).
        self.MAIL_FROM_NAME_FR = env.get("MAIL_FROM_NAME_FR", "Bureau des demandes")
        # Repeat the stakeholder's message in the confirmation (a mailbox is not a protected channel).
        self.CONFIRMATION_INCLUDES_MESSAGE = _flag(env, "CONFIRMATION_INCLUDES_MESSAGE", False)
        self.SMTP_HOST = env.get("SMTP_HOST", "localhost")
        self.SMTP_PORT = _int(env, "SMTP_PORT", 25)
        self.SMTP_USERNAME = env.get("SMTP_USERNAME", "")
        self.SMTP_PASSWORD = env.get("SMTP_PASSWORD", "")
        self.SMTP_SECURITY = env.get("SMTP_SECURITY", "none")  # none | starttls | tls
        if self.SMTP_SECURITY not in {"none", "starttls", "tls"}:
            raise ConfigError(f"SMTP_SECURITY must be none, starttls or tls, not {self.SMTP_SECURITY!r}")
        self.SMTP_TIMEOUT = _int(env, "SMTP_TIMEOUT", 30)
        # A message that still cannot be delivered this long after it was queued is marked failed.
        self.MAIL_GIVE_UP_HOURS = _int(env, "MAIL_GIVE_UP_HOURS", 48)
        # The mail workers (`flask mail worker`): see the README, "The mail worker".
        self.MAIL_WORKER_CONNECTIONS = _int(env, "MAIL_WORKER_CONNECTIONS", 1)
        self.MAIL_WORKER_BATCH = _int(env, "MAIL_WORKER_BATCH", 200)
        self.MAIL_WORKER_POLL_SECONDS = _float(env, "MAIL_WORKER_POLL_SECONDS", 0.25)
        self.MAIL_WORKER_LEASE_SECONDS = _float(env, "MAIL_WORKER_LEASE_SECONDS", 300.0)
        self.MAIL_RATE_PER_SECOND = _float(env, "MAIL_RATE_PER_SECOND", 0.0)  # all workers together; 0: no limit
        self.MAIL_RETRY_FIRST_SECONDS = _float(env, "MAIL_RETRY_FIRST_SECONDS", 60.0)
        self.MAIL_BULK_MAX_ATTEMPTS = _int(env, "MAIL_BULK_MAX_ATTEMPTS", 12)
        # Email in (`flask mail ingest`, the IMAP job; see the README, "Email in"). MAIL_INBOUND_ADDRESS is the
        # team's receiving address; with MAIL_INBOUND_PLUS_ADDRESSING=1 replies say desk+TOKEN@ of that address.
        self.MAIL_INBOUND_ADDRESS = env.get("MAIL_INBOUND_ADDRESS", "")
        self.MAIL_INBOUND_PLUS_ADDRESSING = _flag(env, "MAIL_INBOUND_PLUS_ADDRESSING", False)
        self.MAIL_INBOUND_MAX_BYTES = _int(env, "MAIL_INBOUND_MAX_BYTES", 10_000_000)
        self.MAIL_INBOUND_MAX_PER_SENDER_HOUR = _int(env, "MAIL_INBOUND_MAX_PER_SENDER_HOUR", 20)
        self.MAIL_SOFT_BOUNCE_LIMIT = _int(env, "MAIL_SOFT_BOUNCE_LIMIT", 3)
        # Attachments (email in, the form, the portal, staff replies): kept outside the web root, by content hash;
        # empty ATTACHMENTS_DIR: <instance>/attachments. Limits per file, per message, and files per message.
        self.ATTACHMENTS_DIR = env.get("ATTACHMENTS_DIR", "")
        self.ATTACHMENTS_MAX_FILE_BYTES = _int(env, "ATTACHMENTS_MAX_FILE_BYTES", 10_000_000)
        self.ATTACHMENTS_MAX_MESSAGE_BYTES = _int(env, "ATTACHMENTS_MAX_MESSAGE_BYTES", 25_000_000)
        self.ATTACHMENTS_MAX_FILES = _int(env, "ATTACHMENTS_MAX_FILES", 10)
        # The authserv-id of the receiving server's Authentication-Results: a DMARC pass it reports for the
        # sender's domain stands for the proof of address a trusted partner's badge needs. Empty: never.
        self.MAIL_AUTHSERV_ID = env.get("MAIL_AUTHSERV_ID", "")
        self.IMAP_HOST = env.get("IMAP_HOST", "")
        self.IMAP_PORT = _int(env, "IMAP_PORT", 993)
        self.IMAP_USER = env.get("IMAP_USER", "")
        self.IMAP_PASSWORD = env.get("IMAP_PASSWORD", "")
        self.IMAP_FOLDER = env.get("IMAP_FOLDER", "INBOX")
        self.IMAP_PROCESSED_FOLDER = env.get("IMAP_PROCESSED_FOLDER", "Processed")
        self.IMAP_CA_FILE = env.get("IMAP_CA_FILE", "")  # a private CA's certificate (tests); else the system's
        self.IMAP_BATCH = _int(env, "IMAP_BATCH", 50)

        self.BASE_URL = env.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        self.TIMEZONE = env.get("TIMEZONE", "America/Toronto")
        # The proxies whose X-Forwarded-For/-Proto are believed (gunicorn reads the same variable) and how many
        # proxies stand in front (the client is that many entries from the end of X-Forwarded-For).
        self.FORWARDED_ALLOW_IPS = env.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
        try:
            for entry in self.FORWARDED_ALLOW_IPS.split(","):
                if entry.strip() not in {"", "*"}:
                    ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError as exc:
            raise ConfigError(f"FORWARDED_ALLOW_IPS must list addresses or networks, or be *: {exc}") from exc
        self.PROXY_COUNT = _int(env, "PROXY_COUNT", 1)
        self.RATELIMIT_STORAGE_URI = env.get("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_ENABLED = _flag(env, "RATELIMIT_ENABLED", True)
        self.RATELIMIT_HEADERS_ENABLED = True
        self.LOG_LEVEL = env.get("LOG_LEVEL", "INFO")
        self.LOG_FORMAT = env.get("LOG_FORMAT", self.default_log_format())
        if self.LOG_FORMAT not in {"text", "json"}:
            raise ConfigError(f"LOG_FORMAT must be text or json, not {self.LOG_FORMAT!r}")
        # GET /metrics answers only with "Authorization: Bearer <METRICS_TOKEN>"; empty: no such page (404).
        self.METRICS_TOKEN = env.get("METRICS_TOKEN", "")

        self.ORG_NAME_EN = env.get("ORG_NAME_EN", "Dedicated Stakeholder Team")
        self.ORG_NAME_FR = env.get("ORG_NAME_FR", "Équipe dédiée aux parties prenantes")
        self.ORG_CONTACT_EMAIL = env.get("ORG_CONTACT_EMAIL", "stakeholders@example.org")
        self.ORG_CONTACT_PHONE = env.get("ORG_CONTACT_PHONE", "")
        # The organisation's icon and logo: files under inquiry_desk/static/ (never a URL elsewhere:
        # pages make no external request). No logo by default; a neutral icon.
        self.ORG_FAVICON = _static_file(env, "ORG_FAVICON", "img/favicon.svg")
        self.ORG_LOGO = _static_file(env, "ORG_LOGO", "")

        # Intake: the public form and the private links.
        self.PORTAL_LINK_DAYS = _int(env, "PORTAL_LINK_DAYS", 90)
        # An admin's invitation to a new staff member: good once, for this many hours.
        self.INVITATION_HOURS = _int(env, "INVITATION_HOURS", 72)
        # The privacy notice's version; each inquiry records the one its stakeholder accepted.
        self.PRIVACY_NOTICE_VERSION = env.get("PRIVACY_NOTICE_VERSION", "2026-11").strip()[:40]
        self.INTAKE_MIN_FILL_SECONDS = _int(env, "INTAKE_MIN_FILL_SECONDS", 3)
        self.INTAKE_FORM_MAX_HOURS = _int(env, "INTAKE_FORM_MAX_HOURS", 24)  # a form shown longer ago is shown again
        self.INTAKE_RATE_LIMIT = env.get("INTAKE_RATE_LIMIT", "5 per minute;30 per hour")
        # Partners' networks (an NGO office behind one address) that the public form's limit spares.
        self.INTAKE_RATE_LIMIT_EXEMPT_NETWORKS = parse_networks(env.get("INTAKE_RATE_LIMIT_EXEMPT_NETWORKS", ""))
        self.EMAIL_CHECK_DELIVERABILITY = _flag(env, "EMAIL_CHECK_DELIVERABILITY", False)

        # Mailing lists: how long a confirmation link lasts, when unconfirmed sign-ups are removed,
        # and the mailbox named in every bulletin's List-Unsubscribe header (read by the team until email in).
        self.MAILING_CONFIRM_HOURS = _int(env, "MAILING_CONFIRM_HOURS", 48)
        self.MAILING_PENDING_DAYS = _int(env, "MAILING_PENDING_DAYS", 7)
        self.MAILING_UNSUBSCRIBE_MAILTO = env.get("MAILING_UNSUBSCRIBE_MAILTO", "")
        self.MAILING_RATE_LIMIT = env.get("MAILING_RATE_LIMIT", "5 per minute;30 per hour")
        # Lifecycle: a stakeholder's reply reopens an inquiry closed at most this many days ago (past that,
        # it opens a new inquiry linked to it); a resolved inquiry left quiet this long is closed.
        self.REOPEN_WINDOW_DAYS = _int(env, "REOPEN_WINDOW_DAYS", 30)
        self.AUTO_CLOSE_DAYS = _int(env, "AUTO_CLOSE_DAYS", 14)

        # Inbox: what counts as "due soon", how many search hits a list takes, export size.
        self.INBOX_DUE_SOON_MINUTES = _int(env, "INBOX_DUE_SOON_MINUTES", 240)
        self.INBOX_SEARCH_LIMIT = _int(env, "INBOX_SEARCH_LIMIT", 1000)
        self.INBOX_EXPORT_MAX_ROWS = _int(env, "INBOX_EXPORT_MAX_ROWS", 50_000)

        # Background jobs: how long closed inquiries are kept, when the daily digest goes out.
        self.RETENTION_MONTHS = _int(env, "RETENTION_MONTHS", 24)
        self.DIGEST_HOUR = _int(env, "DIGEST_HOUR", 7)
        # The weekly report to leads, Monday at this hour (team time zone).
        self.WEEKLY_REPORT_HOUR = _int(env, "WEEKLY_REPORT_HOUR", 7)
        self.SCHEDULER_IN_PROCESS = _flag(env, "SCHEDULER_IN_PROCESS", False)  # `flask run` also schedules jobs
        # `flask run` also runs a mail worker thread (polling every second); by default with the scheduler.
        self.MAIL_WORKER_IN_PROCESS = _flag(env, "MAIL_WORKER_IN_PROCESS", self.SCHEDULER_IN_PROCESS)

        # Accounts: lockout and session lifetimes (minutes).
        self.LOGIN_MAX_FAILURES = _int(env, "LOGIN_MAX_FAILURES", 5)
        self.LOGIN_LOCKOUT_MINUTES = _int(env, "LOGIN_LOCKOUT_MINUTES", 15)
        self.SESSION_IDLE_MINUTES = _int(env, "SESSION_IDLE_MINUTES", 30)
        self.SESSION_ABSOLUTE_MINUTES = _int(env, "SESSION_ABSOLUTE_MINUTES", 12 * 60)
        self.LOGIN_RATE_LIMIT = env.get("LOGIN_RATE_LIMIT", "10 per minute")
        self.PASSWORD_MIN_LENGTH = 12

        self.SESSION_COOKIE_NAME = "inquiry_desk_session"
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _flag(env, "SESSION_COOKIE_SECURE", self.secure_cookies_by_default())
        self.PREFERRED_URL_SCHEME = "https" if self.BASE_URL.startswith("https") else "http"
        self.WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
        self.BABEL_DEFAULT_LOCALE = "en"
        self.BABEL_DEFAULT_TIMEZONE = self.TIMEZONE
        self.LANGUAGES = ("en", "fr")
        self.MAX_CONTENT_LENGTH = 2 * 1024 * 1024

    def missing_secret_key(self) -> str:
        return _development_secret_key()

    def secure_cookies_by_default(self) -> bool:
        return False

    def default_log_format(self) -> str:
        return "text"


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"
    DEBUG = True


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        env = os.environ if env is None else env
        if not env.get("DATABASE_URL"):
            raise ConfigError("DATABASE_URL must be set in production (PostgreSQL).")
        if not env.get("BASE_URL", "").strip():
            # Every emailed link is built on it: without it they would point to http://127.0.0.1:5000.
            raise ConfigError("BASE_URL must be set in production (e.g. https://desk.example.org).")
        self.SMTP_SECURITY = env.get("SMTP_SECURITY", "starttls")

    def missing_secret_key(self) -> str:
        raise ConfigError("SECRET_KEY must be set in production; the app will not start without it.")

    def secure_cookies_by_default(self) -> bool:
        return True

    def default_log_format(self) -> str:
        return "json"


class TestingConfig(BaseConfig):
    """Used by the test suite; the database comes from TEST_DATABASE_URL."""

    ENV_NAME = "testing"
    TESTING = True

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = dict(os.environ if env is None else env)
        env.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
        super().__init__(env)
        self.MAIL_BACKEND = "memory"
        # Each test process keeps its files apart from the instance folder's (tests set their own when they look).
        self.ATTACHMENTS_DIR = env.get("ATTACHMENTS_DIR") or os.path.join(
            tempfile.gettempdir(), f"inquiry-desk-test-attachments-{os.getpid()}")
        self.WTF_CSRF_ENABLED = _flag(env, "TEST_CSRF_ENABLED", False)
        self.RATELIMIT_STORAGE_URI = "memory://"
        self.SERVER_NAME = None


CONFIGS: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def load_config(name: str | None = None) -> BaseConfig:
    """Build the config named by ``name`` or by the APP_ENV variable."""
    name = name or os.environ.get("APP_ENV", "development")
    try:
        return CONFIGS[name]()
    except KeyError as exc:
        raise ConfigError(f"APP_ENV must be one of {sorted(CONFIGS)}, not {name!r}") from exc
