"""The packaged default source list (seeds/sources.toml) stays well-formed and on-site."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from crawler.urls import allowed_sites, is_same_site

SOURCES_TOML = Path(__file__).resolve().parent.parent / "seeds" / "sources.toml"
KEYS = {"name", "homepage", "language", "feeds", "sitemaps", "sections", "discover"}


def _sources() -> list[dict[str, object]]:
    with SOURCES_TOML.open("rb") as handle:
        return list(tomllib.load(handle)["sources"])


SOURCES = _sources()


def _urls(source: dict[str, object]) -> list[str]:
    urls = [str(source["homepage"])] if source.get("homepage") else []
    for key in ("feeds", "sitemaps", "sections"):
        value = source.get(key, [])
        assert isinstance(value, list), f"{source['name']}: `{key}` must be a list"
        urls.extend(str(url) for url in value)
    return urls


def test_at_least_twelve_sources():
    assert len(SOURCES) >= 12


def test_names_are_unique_short_ids():
    names = [str(source["name"]) for source in SOURCES]
    assert len(names) == len(set(names)), "two [[sources]] blocks share a name"
    for name in names:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", name), f"{name!r}: use lowercase [a-z0-9-]"


def test_all_three_languages_are_present():
    assert {source.get("language") for source in SOURCES} >= {"fr", "ar", "en"}


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: str(s["name"]))
def test_only_known_keys(source):
    assert set(source) <= KEYS, f"unknown keys {set(source) - KEYS}; the config loader refuses them"


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: str(s["name"]))
def test_every_url_is_https_and_on_the_sources_own_site(source):
    urls = _urls(source)
    sites = allowed_sites([str(source["homepage"])]) if source.get("homepage") else None
    sites = sites or allowed_sites(urls[:1])
    for url in urls:
        assert url.startswith("https://"), f"{source['name']}: {url} is not https"
        assert is_same_site(url, sites), f"{source['name']}: {url} is off the source's site"


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: str(s["name"]))
def test_every_source_has_a_feed_or_sitemap_and_a_second_channel(source):
    assert source.get("feeds") or source.get("sitemaps"), f"{source['name']}: no feed or sitemap"
    # A homepage gives robots.txt sitemaps, <link rel=alternate> feeds and a listing page.
    assert source.get("homepage") or source.get("sections"), f"{source['name']}: one channel only"
