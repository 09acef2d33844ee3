"""Loads and validates newswatch's TOML configuration into frozen, typed objects.

Three layers, each overriding the one before: the packaged defaults in `seeds/`, the user's file
(`--config`, `NEWSWATCH_CONFIG` or `./newswatch.toml`), then environment variables and CLI flags.
Everything is validated here, before any crawl starts; nothing here opens a network or DB connection.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from crawler.errors import ConfigError, not_utf8
from crawler.schedule import Schedule, parse_schedule

CONFIG_ENV = "NEWSWATCH_CONFIG"
DATABASE_URL_ENV = "NEWSWATCH_DATABASE_URL"
SMTP_PASSWORD_ENV = "NEWSWATCH_SMTP_PASSWORD"
DEFAULT_CONFIG_NAME = "newswatch.toml"
DEFAULT_DATABASE_URL = "sqlite:///newswatch.db"
DEFAULT_USER_AGENT = (
    "newswatch/0.1 (news monitoring for decentralized cooperation; "
    "+https://pypi.org/project/newswatch/)"
)
DiscoveryKind = Literal["feeds", "sitemaps", "sections"]
ALL_DISCOVERY: tuple[DiscoveryKind, ...] = ("feeds", "sitemaps", "sections")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Strict):
    url: str = DEFAULT_DATABASE_URL

    @field_validator("url")
    @classmethod
    def _parse_url(cls, value: str) -> str:
        # Imported here, when a config names a database: commands that use the default one
        # and never open it (`classify`, `rules`) do not load SQLAlchemy (0.12 s).
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value)
        except ArgumentError as exc:
            raise ValueError(
                f"{value!r} is not a database URL (expected e.g. sqlite:///newswatch.db "
                "or postgresql+psycopg://user@host/db)"
            ) from exc
        return value

    def __repr__(self) -> str:
        # The URL may carry a password: never show it in a log line or traceback.
        return f"DatabaseConfig(url={self.safe_url!r})"

    __str__ = __repr__

    @property
    def safe_url(self) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.url).render_as_string(hide_password=True)


class CrawlConfig(_Strict):
    max_age_days: Annotated[int, Field(ge=1, le=3650)] = 14
    concurrency_per_domain: Annotated[int, Field(ge=1, le=32)] = 2
    download_delay: Annotated[float, Field(ge=0, le=600)] = 1.0
    autothrottle: bool = True
    max_pages_per_source: Annotated[int, Field(ge=1)] = 500
    section_pages: Annotated[int, Field(ge=0, le=100)] = 3
    user_agent: Annotated[str, Field(min_length=3)] = DEFAULT_USER_AGENT
    obey_robots: bool = True
    max_duration: Annotated[int, Field(ge=10)] = 3600
    download_timeout: Annotated[int, Field(ge=1, le=600)] = 30
    max_page_bytes: Annotated[int, Field(ge=10_000)] = 10 * 1024 * 1024
    workers: Annotated[int, Field(ge=0, le=64)] = 0  # extraction processes; 0 = one per CPU core
    min_text_chars: Annotated[int, Field(ge=0)] = 400


class SourceConfig(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
    homepage: HttpUrl | None = None
    feeds: tuple[HttpUrl, ...] = ()
    sitemaps: tuple[HttpUrl, ...] = ()
    sections: tuple[HttpUrl, ...] = ()
    discover: tuple[DiscoveryKind, ...] = ALL_DISCOVERY
    language: Literal["fr", "en", "ar", "es"] | None = None

    @model_validator(mode="after")
    def _has_a_start(self) -> SourceConfig:
        if not (self.homepage or self.feeds or self.sitemaps or self.sections):
            raise ValueError("needs at least one of homepage, feeds, sitemaps or sections")
        return self

    def uses(self, kind: DiscoveryKind) -> bool:
        return kind in self.discover


class FilterConfig(_Strict):
    rules: Path | None = None  # None: the built-in seeds/rules.toml


# Errors whose message already quotes the value: `_describe` adds no "(got ...)" to them.
_QUOTES_INPUT = "newswatch_value"


class ScheduleConfig(_Strict):
    """When the daemon crawls and sends the digest (`every N{s,m,h}` or 5-field cron lines)."""

    crawl: str = "every 2h"
    digest: str = "0 8 * * *"
    timezone: str = "Africa/Casablanca"  # its clocks move around Ramadan: keep it zone-aware

    @field_validator("crawl", "digest")
    @classmethod
    def _parse(cls, value: str) -> str:
        try:
            parse_schedule(value)
        except ValueError as exc:
            raise PydanticCustomError(_QUOTES_INPUT, str(exc)) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            message = f'"{value}" is not a time zone name (e.g. "Africa/Casablanca", "UTC")'
            raise PydanticCustomError(_QUOTES_INPUT, message) from None
        return value

    @property
    def crawl_schedule(self) -> Schedule:
        return parse_schedule(self.crawl)

    @property
    def digest_schedule(self) -> Schedule:
        return parse_schedule(self.digest)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _check_address(value: str) -> str:
    """One plain e-mail address: no display-name tricks, no line breaks (header injection)."""
    if any(char in value for char in '\r\n\x00,;<>"') or value.count("@") != 1:
        raise PydanticCustomError(_QUOTES_INPUT, f"{value!r} is not an e-mail address")
    local, domain = value.split("@")
    if not local or "." not in domain.strip(".") or " " in value.strip():
        raise PydanticCustomError(_QUOTES_INPUT, f"{value!r} is not an e-mail address")
    return value.strip()


class DigestConfig(_Strict):
    """The digest e-mail: who gets it and what it holds."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    to: tuple[str, ...] = ()
    sender: str = Field(default="newswatch@localhost", alias="from")
    subject: str | None = None  # None: the language's default; "{count}", "{date}", "{title}"
    language: Literal["fr", "en"] = "fr"
    send_empty: bool = False
    max_stories: Annotated[int, Field(ge=1, le=500)] = 50

    @field_validator("to", mode="before")
    @classmethod
    def _one_recipient(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator("to")
    @classmethod
    def _recipients(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_check_address(address) for address in value))

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        if value == "newswatch@localhost":
            return value
        return _check_address(value)

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if any(char in value for char in "\r\n\x00"):
            raise PydanticCustomError(_QUOTES_INPUT, "a subject is one line")
        try:
            value.format(count=1, date="2026-01-01", title="")
        except (KeyError, IndexError, ValueError) as exc:
            message = f"{value!r}: only {{count}}, {{date}} and {{title}} are filled in ({exc})"
            raise PydanticCustomError(_QUOTES_INPUT, message) from None
        return value


class SmtpConfig(_Strict):
    """The mail server. The password comes only from NEWSWATCH_SMTP_PASSWORD, never the file."""

    host: Annotated[str, Field(min_length=1)] = "localhost"
    port: Annotated[int, Field(ge=1, le=65535)] | None = None  # None: 25, 587 or 465 by security
    security: Literal["none", "starttls", "ssl"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None  # set by load_config from the environment only
    timeout: Annotated[float, Field(gt=0, le=600)] = 30.0
    retries: Annotated[int, Field(ge=0, le=10)] = 3

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return {"none": 25, "starttls": 587, "ssl": 465}[self.security]


class Config(_Strict):
    database: DatabaseConfig = DatabaseConfig()
    crawl: CrawlConfig = CrawlConfig()
    filter: FilterConfig = FilterConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    digest: DigestConfig = DigestConfig()
    smtp: SmtpConfig = SmtpConfig()
    sources: tuple[SourceConfig, ...] = ()
    include_default_sources: bool = False
    path: Path | None = None  # the user's file this was loaded from, if any

    @model_validator(mode="after")
    def _unique_source_names(self) -> Config:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"source name {source.name!r} is used twice")
            seen.add(source.name)
        return self

    def select_sources(self, names: list[str] | tuple[str, ...]) -> tuple[SourceConfig, ...]:
        """The sources named on the command line (all when none are named)."""
        if not names:
            return self.sources
        by_name = {s.name: s for s in self.sources}
        chosen = []
        for name in names:
            if name not in by_name:
                hint = difflib.get_close_matches(name, list(by_name), n=1)
                suggestion = f" Did you mean {hint[0]!r}?" if hint else ""
                raise ConfigError(
                    f"unknown source {name!r}.{suggestion} "
                    "Run `newswatch sources` to list the configured ones."
                )
            chosen.append(by_name[name])
        return tuple(chosen)

    def rules_path(self) -> Path:
        if self.filter.rules is not None:
            return self.filter.rules
        return Path(str(files("seeds") / "rules.toml"))


def default_sources_path() -> Path:
    return Path(str(files("seeds") / "sources.toml"))


def find_config_file(explicit: Path | str | None) -> Path | None:
    """`--config`, else `NEWSWATCH_CONFIG`, else `./newswatch.toml` if it exists."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    return local if local.is_file() else None


def load_config(explicit: Path | str | None = None) -> Config:
    """Build the effective configuration; raise ConfigError naming the file and key on any problem."""
    path = find_config_file(explicit)
    user = _read_toml(path) if path else {}
    if "path" in user:
        raise ConfigError(f"{path}: path: unknown key")
    smtp = user.get("smtp")
    if isinstance(smtp, dict) and "password" in smtp:
        raise ConfigError(
            f"{path}: [smtp] password: never read from the file (it would sit in clear text); "
            f"set the environment variable {SMTP_PASSWORD_ENV} instead"
        )
    defaults = _read_toml(default_sources_path())
    data: dict[str, Any] = dict(user)
    user_sources = user.get("sources")
    if user_sources is None:
        data["sources"] = defaults.get("sources", [])
    elif user.get("include_default_sources") is True and isinstance(user_sources, list):
        data["sources"] = [*user_sources, *defaults.get("sources", [])]
    env_url = os.environ.get(DATABASE_URL_ENV)
    if env_url:
        data["database"] = {**dict(data.get("database") or {}), "url": env_url}
    password = os.environ.get(SMTP_PASSWORD_ENV)
    if password:
        data["smtp"] = {**dict(data.get("smtp") or {}), "password": password}
    config = _validate(data, path)
    if config.filter.rules is not None and path is not None:
        rules = config.filter.rules
        if not rules.is_absolute():
            rules = (path.parent / rules).resolve()
        if not rules.is_file():
            raise ConfigError(f"{path}: [filter] rules: no such file {str(rules)!r}")
        config = config.model_copy(update={"filter": FilterConfig(rules=rules)})
    elif config.filter.rules is not None and not config.filter.rules.is_file():
        raise ConfigError(f"[filter] rules: no such file {str(config.filter.rules)!r}")
    return config.model_copy(update={"path": path})


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        # utf-8-sig: a byte-order mark, as some Windows editors write, is not a TOML error.
        return tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:  # e.g. saved as Windows-1252 by an editor
        raise ConfigError(f"{path}: {not_utf8(exc)}; save the file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from None


def _validate(data: dict[str, Any], path: Path | None) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, data, path)) from None


def _describe(exc: ValidationError, data: dict[str, Any], path: Path | None) -> str:
    """One line per problem: 'newswatch.toml: [crawl] max_age_day: unknown key (did you mean ...)'."""
    where = str(path) if path else "configuration"
    lines = []
    for error in exc.errors():
        loc = error["loc"]
        key = _format_location(loc, data)
        if error["type"] == "extra_forbidden":
            message = "unknown key" + _suggest(loc)
        else:
            message = error["msg"]
            if (
                "input" in error
                and error["type"] != _QUOTES_INPUT
                and not isinstance(error["input"], dict | list)
                and loc[-1] != "password"
            ):
                message += f" (got {error['input']!r})"
        lines.append(f"{where}: {key}: {message}")
    return "\n".join(lines)


def _format_location(loc: tuple[int | str, ...], data: dict[str, Any]) -> str:
    if not loc:
        return "(top level)"
    if loc[0] == "sources" and len(loc) > 1 and isinstance(loc[1], int):
        index = loc[1]
        sources = data.get("sources") or []
        name = ""
        if index < len(sources) and isinstance(sources[index], dict):
            name = f" {sources[index].get('name', '')!r}"
        rest = ".".join(str(part) for part in loc[2:])
        return f"[[sources]] #{index + 1}{name}" + (f" {rest}" if rest else "")
    if len(loc) == 1:
        return str(loc[0])
    return f"[{loc[0]}] " + ".".join(str(part) for part in loc[1:])


_SECTION_FIELDS: dict[str, type[BaseModel]] = {
    "database": DatabaseConfig,
    "crawl": CrawlConfig,
    "filter": FilterConfig,
    "sources": SourceConfig,
    "schedule": ScheduleConfig,
    "digest": DigestConfig,
    "smtp": SmtpConfig,
}


def _suggest(loc: tuple[int | str, ...]) -> str:
    name = str(loc[-1])
    model: type[BaseModel] = Config
    if len(loc) > 1 and str(loc[0]) in _SECTION_FIELDS:
        model = _SECTION_FIELDS[str(loc[0])]
    candidates = [
        info.alias or field for field, info in model.model_fields.items() if field != "path"
    ]
    close = difflib.get_close_matches(name, candidates, n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(candidates)}"
