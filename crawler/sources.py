"""The runtime `Source`: one configured outlet with the sites it may follow. It fetches nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.urls import allowed_sites, canonicalize_url, is_same_site

if TYPE_CHECKING:
    from collections.abc import Iterable

    from crawler.config import DiscoveryKind, SourceConfig


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    homepage: str | None
    feeds: tuple[str, ...]
    sitemaps: tuple[str, ...]
    sections: tuple[str, ...]
    discover: frozenset[DiscoveryKind]
    language: str | None
    sites: frozenset[str]  # site keys (registered domains, or host:port for IPs) it may follow

    @classmethod
    def from_config(cls, config: SourceConfig) -> Source:
        def urls(values: Iterable[object]) -> tuple[str, ...]:
            return tuple(canonicalize_url(str(value)) for value in values)

        homepage = canonicalize_url(str(config.homepage)) if config.homepage else None
        feeds, sitemaps, sections = urls(config.feeds), urls(config.sitemaps), urls(config.sections)
        every = [*feeds, *sitemaps, *sections, *([homepage] if homepage else [])]
        return cls(
            name=config.name,
            homepage=homepage,
            feeds=feeds,
            sitemaps=sitemaps,
            sections=sections,
            discover=frozenset(config.discover),
            language=config.language,
            sites=allowed_sites(every),
        )

    def uses(self, kind: DiscoveryKind) -> bool:
        return kind in self.discover

    def owns(self, url: str) -> bool:
        """Only pages of the source's own domain(s) are followed."""
        return is_same_site(url, self.sites)

    @property
    def origin(self) -> str | None:
        """Scheme and host of the source, where robots.txt lives."""
        first = self.homepage or next(iter((*self.feeds, *self.sitemaps, *self.sections)), None)
        if first is None:
            return None
        scheme, _, rest = first.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"
