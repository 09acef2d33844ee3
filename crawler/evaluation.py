"""Rules measured against labeled articles, for `newswatch rules test`.

A labeled file holds JSON lines: `id`, `title`, `text`, `label` (true: the article must match),
and optionally `tier` ("core", "related"), `lang` and `kind` (what sort of negative it is); other
keys (`note`...) are ignored. Each article goes through the crawl's own filter
(`crawler.processing.decide`), so the figures are those the crawl would get. Formatting is the
CLI's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crawler.processing import decide

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from crawler.filter import MatchResult, RuleEngine

NO_LANGUAGE = "?"  # the language bucket of articles without "lang"


class BadArticleLine(ValueError):
    """A JSON line (of a labeled file, or given to `classify`) that cannot be used as an
    article; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class LabeledArticle:
    id: str
    line: int
    title: str
    text: str
    label: bool
    tier: str | None = None
    lang: str | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class Counts:
    """A confusion matrix; a ratio whose denominator is 0 is None (shown as "n/a")."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float | None:
        # 2TP / (2TP + FP + FN): the harmonic mean of precision and recall, defined even when
        # one of them is not (no prediction at all gives 0, not an error).
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    def to_dict(self) -> dict[str, Any]:
        return {
            "articles": self.total,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision": _rounded(self.precision),
            "recall": _rounded(self.recall),
            "f1": _rounded(self.f1),
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    article: LabeledArticle
    result: MatchResult

    @property
    def correct(self) -> bool:
        return self.article.label == self.result.matched

    @property
    def wrong_tier(self) -> bool:
        """A positive found, but with another tier than its label says."""
        article, result = self.article, self.result
        return article.label and result.matched and article.tier not in (None, result.tier)

    def to_dict(self) -> dict[str, Any]:
        article, result = self.article, self.result
        return {
            "id": article.id,
            "line": article.line,
            "lang": article.lang,
            "kind": article.kind,
            "label": article.label,
            "label_tier": article.tier,
            "match": result.matched,
            "tier": result.tier,
            "score": result.score,
            "threshold": result.threshold,
            "matched": result.groups,
            "excluded": result.excluded,
            "reason": result.reason,
        }


@dataclass(frozen=True, slots=True)
class Report:
    """The outcomes of one labeled file, and the figures drawn from them."""

    path: str
    outcomes: tuple[Outcome, ...]

    @property
    def languages(self) -> list[str]:
        return sorted({o.article.lang or NO_LANGUAGE for o in self.outcomes})

    @property
    def tiers(self) -> list[str]:
        """The tiers the labels name, core and related first."""
        named = {o.article.tier for o in self.outcomes if o.article.label and o.article.tier}
        return sorted(named, key=lambda tier: ({"core": 0, "related": 1}.get(tier, 2), tier))

    def counts(self, language: str | None = None) -> Counts:
        tp = fp = fn = tn = 0
        for outcome in self._of(language):
            label, predicted = outcome.article.label, outcome.result.matched
            tp += label and predicted
            fp += not label and predicted
            fn += label and not predicted
            tn += not label and not predicted
        return Counts(tp, fp, fn, tn)

    def tier_recall(self, tier: str, language: str | None = None) -> tuple[int, int]:
        """(found, labeled) for the positives labeled `tier`; found whatever tier they got."""
        positives = [o for o in self._of(language) if o.article.label and o.article.tier == tier]
        return sum(o.result.matched for o in positives), len(positives)

    def kinds(self) -> dict[str, tuple[int, int]]:
        """For each `kind` of negative: (false positives, negatives)."""
        found: dict[str, tuple[int, int]] = {}
        for outcome in self.outcomes:
            if outcome.article.label or outcome.article.kind is None:
                continue
            fp, total = found.get(outcome.article.kind, (0, 0))
            found[outcome.article.kind] = (fp + outcome.result.matched, total + 1)
        return dict(sorted(found.items()))

    @property
    def misclassified(self) -> list[Outcome]:
        """Missed positives first, then false positives, each in file order."""
        wrong = [o for o in self.outcomes if not o.correct]
        return sorted(wrong, key=lambda o: (not o.article.label, o.article.line))

    @property
    def wrong_tiers(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.wrong_tier]

    def figures(self, language: str | None = None) -> dict[str, Any]:
        """The counts and ratios of one language (None: all), with recall per labeled tier."""
        tiers = {}
        for tier in self.tiers:
            found, labeled = self.tier_recall(tier, language)
            tiers[tier] = {
                "found": found,
                "labeled": labeled,
                "recall": _rounded(_ratio(found, labeled)),
            }
        return {**self.counts(language).to_dict(), "tiers": tiers}

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "overall": self.figures(),
            "languages": {language: self.figures(language) for language in self.languages},
            "kinds": {
                kind: {"false_positives": fp, "negatives": total}
                for kind, (fp, total) in self.kinds().items()
            },
            "misclassified": [o.to_dict() for o in self.misclassified],
            "wrong_tier": [o.to_dict() for o in self.wrong_tiers],
        }

    def _of(self, language: str | None) -> Iterator[Outcome]:
        for outcome in self.outcomes:
            if language is None or (outcome.article.lang or NO_LANGUAGE) == language:
                yield outcome


def parse_article_line(line: str) -> tuple[dict[str, Any], str, str]:
    """A JSON object with string "title" and "text" (missing ones read as ""): the object, its
    title and its text. The input of `classify` and of `rules test`."""
    try:
        item = json.loads(line)
    except ValueError as exc:
        raise BadArticleLine(f"not JSON ({exc})") from None
    if not isinstance(item, dict):
        raise BadArticleLine("not a JSON object")
    title, text = item.get("title") or "", item.get("text") or ""
    if not isinstance(title, str) or not isinstance(text, str):
        raise BadArticleLine('"title" and "text" must be strings')
    return item, title, text


def parse_labeled_line(line: str, number: int) -> LabeledArticle:
    """One labeled article; BadArticleLine says what is wrong with the line."""
    item, title, text = parse_article_line(line)
    if not isinstance(item.get("label"), bool):
        raise BadArticleLine('"label" must be true or false')
    if not title and not text:
        raise BadArticleLine('no "title" nor "text"')
    optional = {}
    for key in ("tier", "lang", "kind"):
        value = item.get(key)
        if value is not None and not isinstance(value, str):
            raise BadArticleLine(f'"{key}" must be a string')
        optional[key] = value or None
    identifier = item.get("id", number)
    if not isinstance(identifier, str | int) or isinstance(identifier, bool):
        raise BadArticleLine('"id" must be a string or a number')
    return LabeledArticle(
        id=str(identifier),
        line=number,
        title=title,
        text=text,
        label=item["label"],
        tier=optional["tier"],
        lang=optional["lang"],
        kind=optional["kind"],
    )


def evaluate_lines(
    engine: RuleEngine, lines: Iterable[str], path: str
) -> tuple[Report, list[tuple[int, str]]]:
    """The report of a labeled file's lines, and its bad lines as (line number, problem)."""
    outcomes = []
    bad: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            article = parse_labeled_line(line, number)
        except BadArticleLine as exc:
            bad.append((number, str(exc)))
            continue
        result = decide(engine, article.title, article.text, article.lang)
        outcomes.append(Outcome(article, result))
    return Report(path, tuple(outcomes)), bad


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
