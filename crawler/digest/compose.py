"""The digest's content: pending stories grouped by Moroccan region, most relevant first, rendered
through the Jinja2 templates (HTML autoescaped, plain text alongside). Selecting the stories is the
repository's job, sending is `send.py`'s; this module does neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

import jinja2

from crawler.filter.normalize import fold_char

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from crawler.config import DigestConfig
    from storage.records import DigestArticle, PendingStory, SourceHealth

SNIPPET_CHARS = 280
_TEMPLATE_PACKAGE = "crawler.digest"

_MONTHS = {
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip

# Every word the reader sees, per language; the templates hold only layout.
LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "heading": "Coopération décentralisée",
        "colon": "\u202f: ",  # French puts a narrow no-break space before a colon
        "count_one": "1 nouvel article",
        "count_many": "{count} nouveaux articles",
        "nothing": "Aucun nouvel article depuis le dernier envoi.",
        "subject_one": "Coopération décentralisée\u202f: 1 article, {date}",
        "subject_many": "Coopération décentralisée\u202f: {count} articles, {date}",
        "also_in": "Aussi dans",
        "why": "Pourquoi",
        "morocco": "Maroc",
        "partner": "partenaire",
        "terms": "termes",
        "related": "contexte",
        "other_group": "Autres acteurs marocains",
        "more_one": "1 autre article attend le prochain envoi.",
        "more_many": "{count} autres articles attendent le prochain envoi.",
        "health": "Sources à vérifier",
        "silent": "aucun article trouvé lors des {crawls} dernières collectes",
        "failing_one": "un flux ou plan de site en échec",
        "failing_many": "{count} flux ou plans de site en échec",
        "footer": "Envoyé par newswatch. Chaque article n'est envoyé qu'une fois.",
    },
    "en": {
        "heading": "Decentralized cooperation",
        "colon": ": ",
        "count_one": "1 new story",
        "count_many": "{count} new stories",
        "nothing": "No new story since the last digest.",
        "subject_one": "Decentralized cooperation: 1 story, {date}",
        "subject_many": "Decentralized cooperation: {count} stories, {date}",
        "also_in": "Also in",
        "why": "Why",
        "morocco": "Morocco",
        "partner": "partner",
        "terms": "terms",
        "related": "context",
        "other_group": "Other Moroccan actors",
        "more_one": "1 more story waits for the next digest.",
        "more_many": "{count} more stories wait for the next digest.",
        "health": "Sources to check",
        "silent": "no article found in its last {crawls} crawls",
        "failing_one": "a feed or sitemap fails",
        "failing_many": "{count} feeds or sitemaps fail",
        "footer": "Sent by newswatch. Each story is sent once.",
    },
}

# Rule groups that say *what* happened, shown as "terms" in the reason line.
_SUBJECT_GROUPS = ("twinning", "agreement", "engagement", "initiative", "intl_economy")


@dataclass(frozen=True, slots=True)
class Entry:
    """One story as the templates show it."""

    title: str
    url: str
    source: str
    date: str  # publication (else first-seen) date, in the digest's language
    snippet: tuple[tuple[str, bool], ...]  # (text, highlighted) pieces
    reason: str
    related: bool  # a "related" tier match, not a core one
    also_in: tuple[tuple[str, str], ...]  # (source, url)
    score: float

    @property
    def snippet_text(self) -> str:
        """The snippet for plain text, terms marked *like this*."""
        return "".join(f"*{text}*" if marked else text for text, marked in self.snippet)


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class HealthNote:
    source: str
    text: str


@dataclass(frozen=True, slots=True)
class DigestContent:
    """A rendered digest and what it covers (the article ids to mark sent once accepted)."""

    subject: str
    text: str
    html: str
    stories: int
    article_ids: tuple[int, ...]
    more_pending: int


def compose_digest(
    stories: Sequence[PendingStory],
    config: DigestConfig,
    now: datetime,
    *,
    health: Sequence[SourceHealth] = (),
) -> DigestContent:
    """Pick the `max_stories` most relevant stories, group them, and render both bodies."""
    labels = LABELS[config.language]
    ranked = sorted(stories, key=_relevance, reverse=True)
    chosen, rest = ranked[: config.max_stories], ranked[config.max_stories :]
    groups = _group(chosen, config.language, labels)
    count = len(chosen)
    date = format_date(now, config.language)
    subject = _subject(config, labels, count, date, chosen)
    notes = [_health_note(item, labels) for item in health]
    context: dict[str, Any] = {
        "labels": labels,
        "lang": config.language,
        "heading": labels["heading"],
        "date": date,
        "count_text": _plural(labels, "count", count),
        "groups": groups,
        "more": _plural(labels, "more", len(rest)) if rest else "",
        "health": notes,
    }
    environment = _environment()
    return DigestContent(
        subject=subject,
        text=environment.get_template("digest.txt.j2").render(context),
        html=environment.get_template("digest.html.j2").render(context),
        stories=count,
        article_ids=tuple(article_id for story in chosen for article_id in story.article_ids),
        more_pending=len(rest),
    )


def format_date(value: datetime, language: str) -> str:
    return f"{value.day} {_MONTHS[language][value.month - 1]} {value.year}"


def _relevance(story: PendingStory) -> tuple[bool, float, float]:
    lead = story.lead
    core = lead.explanation.get("tier") != "related"
    when = (lead.published or lead.first_seen).timestamp()
    return core, lead.score, when


def _group(stories: Sequence[PendingStory], language: str, labels: dict[str, str]) -> list[Group]:
    """By Moroccan region (the first the filter reported), groups ordered by their best story."""
    by_region: dict[str, list[Entry]] = {}
    for story in stories:  # already most relevant first
        regions = story.lead.explanation.get("regions") or []
        region = str(regions[0]) if regions else labels["other_group"]
        by_region.setdefault(region, []).append(_entry(story, language, labels))
    return [Group(name, tuple(entries)) for name, entries in by_region.items()]


def _entry(story: PendingStory, language: str, labels: dict[str, str]) -> Entry:
    lead = story.lead
    return Entry(
        title=" ".join(lead.title.split()) or lead.url,
        url=lead.url,
        source=lead.source,
        date=format_date(lead.published or lead.first_seen, language),
        snippet=snippet(lead.text, highlight_terms(lead)),
        reason=_reason(lead, labels),
        related=lead.explanation.get("tier") == "related",
        also_in=story.also_in,
        score=lead.score,
    )


def _subject(
    config: DigestConfig,
    labels: dict[str, str],
    count: int,
    date: str,
    chosen: Sequence[PendingStory],
) -> str:
    title = " ".join(chosen[0].lead.title.split()) if chosen else ""
    if config.subject is not None:
        return config.subject.format(count=count, date=date, title=title)
    template = labels["subject_one"] if count == 1 else labels["subject_many"]
    return template.format(count=count, date=date)


def _reason(article: DigestArticle, labels: dict[str, str]) -> str:
    """'Maroc : Souss-Massa · partenaire : Bavière · termes : jumelage, convention'."""
    explanation = article.explanation
    groups: dict[str, list[str]] = explanation.get("groups") or {}
    colon = labels["colon"]
    parts = []
    regions = [str(r) for r in explanation.get("regions") or []]
    local = [t for t in groups.get("moroccan_local", []) if "<" not in t]
    if regions or local:
        parts.append(labels["morocco"] + colon + ", ".join(dict.fromkeys([*regions, *local])))
    partners = [str(p) for p in explanation.get("partners") or []]
    if not partners:
        partners = [t for t in groups.get("foreign_partner", []) if "<" not in t]
    if partners:
        parts.append(labels["partner"] + colon + ", ".join(dict.fromkeys(partners)))
    terms = [_readable(t) for name in _SUBJECT_GROUPS for t in groups.get(name, [])]
    if terms:
        parts.append(labels["terms"] + colon + ", ".join(dict.fromkeys(terms[:6])))
    return " · ".join(parts)


def _readable(term: str) -> str:
    """A rule term for a reader: 'coopér*' → 'coopér…', 'ville de <ma_cities>' → 'ville de …'."""
    return re.sub(r"\s*<[^>]*>", " …", term).replace("*", "…").strip()


def highlight_terms(article: DigestArticle) -> list[str]:
    """Names and terms to highlight: regions, partners and the plain terms of the groups."""
    explanation = article.explanation
    terms = [str(name) for name in explanation.get("regions") or []]
    terms += [str(name) for name in explanation.get("partners") or []]
    for group_terms in (explanation.get("groups") or {}).values():
        terms += [t for t in group_terms if "<" not in t]
    return [t for t in dict.fromkeys(terms) if len(t.strip("*")) >= 3]


def snippet(
    text: str, terms: Sequence[str], width: int = SNIPPET_CHARS
) -> tuple[tuple[str, bool], ...]:
    """About `width` characters around the first term found (else the lead), split into pieces
    with the terms marked. Matching ignores case, accents and hyphens, as the filter does."""
    text = " ".join(text.split())
    pattern = _terms_pattern(tuple(terms))
    folded, index = _fold(text)
    hits = [] if pattern is None else [(m.start(), m.end()) for m in pattern.finditer(folded)]
    start = 0
    if hits:
        first = index[hits[0][0]]
        start = max(0, first - width // 3)
        if start:
            space = text.find(" ", start)
            start = space + 1 if 0 <= space < first else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    pieces: list[tuple[str, bool]] = [("…" if start else "", False)]
    cursor = start
    for hit_start, hit_end in hits:
        left, right = index[hit_start], index[hit_end - 1] + 1
        if left < cursor or right > end:
            continue
        pieces += [(text[cursor:left], False), (text[left:right], True)]
        cursor = right
    pieces.append((text[cursor:end] + ("…" if end < len(text) else ""), False))
    return tuple(piece for piece in pieces if piece[0])


def _fold(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index of the original character."""
    out: list[str] = []
    index: list[int] = []
    for position, char in enumerate(text):
        folded = fold_char(char)
        out.append(folded)
        index.extend([position] * len(folded))
    return "".join(out), index


@cache
def _terms_pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    alternatives = []
    for term in terms:
        prefix = term.endswith("*")
        folded = " ".join(_fold(term.rstrip("*"))[0].split())
        if not folded:
            continue
        body = r"\s+".join(re.escape(word) for word in folded.split(" "))
        alternatives.append((len(folded), body + (r"\w*" if prefix else r"(?!\w)")))
    if not alternatives:
        return None
    alternatives.sort(reverse=True)  # longest first: "région Souss-Massa" before "Souss"
    return re.compile(r"(?<!\w)(?:" + "|".join(body for _, body in alternatives) + ")")


def _health_note(item: SourceHealth, labels: dict[str, str]) -> HealthNote:
    if item.problem == "silent":
        return HealthNote(item.source, labels["silent"].format(crawls=item.crawls))
    return HealthNote(item.source, _plural(labels, "failing", len(item.failed_urls) or 1))


def _plural(labels: dict[str, str], key: str, count: int) -> str:
    return labels[f"{key}_one"] if count == 1 else labels[f"{key}_many"].format(count=count)


@cache
def _environment() -> jinja2.Environment:
    """Autoescape for the HTML template; the text template is plain text, so none there."""
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_template),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), disabled_extensions=("txt.j2",), default=True
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def _load_template(name: str) -> str:
    return (files(_TEMPLATE_PACKAGE) / "templates" / name).read_text(encoding="utf-8")
