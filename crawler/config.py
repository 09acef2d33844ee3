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

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from crawler.errors import ConfigError

CONFIG_ENV = "NEWSWATCH_CONFIG"
DATABASE_URL_ENV = "NEWSWATCH_DATABASE_URL"
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


class Config(_Strict):
    database: DatabaseConfig = DatabaseConfig()
    crawl: CrawlConfig = CrawlConfig()
    filter: FilterConfig = FilterConfig()
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
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
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
            if "input" in error and not isinstance(error["input"], dict | list):
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
}


def _suggest(loc: tuple[int | str, ...]) -> str:
    name = str(loc[-1])
    model: type[BaseModel] = Config
    if len(loc) > 1 and str(loc[0]) in _SECTION_FIELDS:
        model = _SECTION_FIELDS[str(loc[0])]
    candidates = [field for field in model.model_fields if field != "path"]
    close = difflib.get_close_matches(name, candidates, n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(candidates)}"
