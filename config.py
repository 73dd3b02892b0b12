"""Settings, all read from the environment. One class per mode: dev (the embedded default),
test and production. Production refuses to start without its secrets."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and what to do."""


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _int(name: str, default: int) -> int:
    raw = _env(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _dev_secret(storage: Path) -> str:
    """The embedded default keeps a random key in its storage folder, so nothing is committed
    and sessions survive a restart."""
    storage.mkdir(parents=True, exist_ok=True)
    key_file = storage / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


class BaseConfig:
    APP_NAME = "DealerCover 车商保险云"
    MODE = "dev"
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    # Flask-AppBuilder
    FAB_CREATE_DB = False  # Alembic owns the schema
    FAB_UPDATE_PERMS = True
    FAB_SECURITY_MANAGER_CLASS = "app.security.manager.DealerSecurityManager"
    FAB_INDEX_VIEW = "app.web.home.HomeView"
    FAB_API_SWAGGER_UI = True
    FAB_ADD_SECURITY_API = True
    FAB_PASSWORD_COMPLEXITY_ENABLED = True
    AUTH_TYPE = 1  # database logins
    AUTH_ROLE_ADMIN = "platform_admin"
    AUTH_ROLE_PUBLIC = "Public"
    AUTH_USER_REGISTRATION = False
    AUTH_RATE_LIMITED = True
    AUTH_RATE_LIMIT = "20 per minute"
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True

    # Security baseline
    SESSION_REFRESH_EACH_REQUEST = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime bounds it
    # Endpoints that accept bodies above REQUEST_MAX_BYTES: endpoint -> bytes, or the name of the
    # setting holding them (app/web/request_limits.py).
    REQUEST_BODY_LIMITS = {"PackUploadView.upload": "PACK_UPLOAD_MAX_BYTES"}

    # Languages: Chinese first, English second
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(ROOT / "app" / "translations")
    LANGUAGES = {
        "zh": {"flag": "cn", "name": "简体中文"},
        "en": {"flag": "gb", "name": "English"},
    }

    @classmethod
    def finalise(cls) -> dict:
        """Return the settings as a dict, filling what depends on the mode."""
        values = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        storage = Path(_env("STORAGE_PATH") or str(ROOT / "var"))
        redis_url = _env("REDIS_URL")
        values.update(
            STORAGE_PATH=storage,
            SQLALCHEMY_DATABASE_URI=_env("DATABASE_URL")
            or f"sqlite:///{storage / 'dealercover.db'}",
            REDIS_URL=redis_url,
            JOB_QUEUE=_env("JOB_QUEUE") or "dealercover",
            RATELIMIT_STORAGE_URI=redis_url or "memory://",
            AUTH_RATE_LIMIT=_env("AUTH_RATE_LIMIT") or cls.AUTH_RATE_LIMIT,
            LOGIN_LOCKOUT_ATTEMPTS=_int("LOGIN_LOCKOUT_ATTEMPTS", 5),
            LOGIN_LOCKOUT_MINUTES=_int("LOGIN_LOCKOUT_MINUTES", 15),
            LOGIN_DELAY_SECONDS=_int("LOGIN_DELAY_SECONDS", 1),
            TRUSTED_PROXY_COUNT=_int("TRUSTED_PROXY_COUNT", 0),
            PERMANENT_SESSION_LIFETIME=timedelta(minutes=_int("SESSION_IDLE_MINUTES", 30)),
            # Every request body is bounded (413 above it) and JSON nesting too (400 deeper).
            MAX_CONTENT_LENGTH=_int("REQUEST_MAX_BYTES", 16 * 1024 * 1024),
            JSON_MAX_DEPTH=_int("JSON_MAX_DEPTH", 64),
            # Configuration documents and packs from outside (app/configuration/safe_input.py,
            # uploads.py): bounded so a small input cannot expand into a large one.
            DOCUMENT_MAX_BYTES=_int("DOCUMENT_MAX_BYTES", 1024 * 1024),
            DOCUMENT_MAX_DEPTH=_int("DOCUMENT_MAX_DEPTH", 64),
            PACK_UPLOAD_MAX_BYTES=_int("PACK_UPLOAD_MAX_BYTES", 20 * 1024 * 1024),
            PACK_UNPACKED_MAX_BYTES=_int("PACK_UNPACKED_MAX_BYTES", 50 * 1024 * 1024),
            PACK_FILE_MAX_BYTES=_int("PACK_FILE_MAX_BYTES", 2 * 1024 * 1024),
            PACK_MAX_FILES=_int("PACK_MAX_FILES", 2000),
            PACK_MAX_RATIO=_int("PACK_MAX_RATIO", 100),
            PACK_UPLOAD_TTL_HOURS=_int("PACK_UPLOAD_TTL_HOURS", 24),
        )
        values["SECRET_KEY"] = _env("SECRET_KEY") or _dev_secret(storage)
        storage.mkdir(parents=True, exist_ok=True)
        return values


class DevConfig(BaseConfig):
    MODE = "dev"


class TestConfig(BaseConfig):
    MODE = "test"
    TESTING = True
    WTF_CSRF_ENABLED = False
    AUTH_RATE_LIMITED = False
    RATELIMIT_ENABLED = False
    FAB_UPDATE_PERMS = True

    @classmethod
    def finalise(cls) -> dict:
        values = super().finalise()
        values["SECRET_KEY"] = "test-only-key-not-secret-0123456789abcdef"
        # Tests post wrong passwords back to back; the delay is tested on an app that sets it.
        values["LOGIN_DELAY_SECONDS"] = 0
        return values


class ProductionConfig(BaseConfig):
    MODE = "production"
    SESSION_COOKIE_SECURE = _env("SESSION_COOKIE_SECURE", "1") == "1"

    @classmethod
    def finalise(cls) -> dict:
        missing = [n for n in ("SECRET_KEY", "DATABASE_URL") if not _env(n)]
        if missing:
            raise ConfigError(
                "Production start refused: set "
                + ", ".join(missing)
                + " in the environment (see docs/deployment.md)."
            )
        if len(_env("SECRET_KEY")) < 32:
            raise ConfigError(
                "Production start refused: SECRET_KEY must be at least 32 characters."
            )
        return super().finalise()


MODES = {"dev": DevConfig, "test": TestConfig, "production": ProductionConfig}


def load_config(mode: str | None = None) -> dict:
    """Settings for `mode` (default: the APP_MODE variable, else dev)."""
    mode = mode or _env("APP_MODE", "dev")
    if mode not in MODES:
        raise ConfigError(f"APP_MODE must be one of {', '.join(MODES)}, got {mode!r}")
    return MODES[mode].finalise()
