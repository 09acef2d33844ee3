"""A decision taken apart for `newswatch rules explain`: points per term, group and exclusion.

The engine's `RuleEngine.trace` says which terms were found where and which tier conditions
held; this module adds the arithmetic of docs/rules.md (weight × zone multiplier, best
`max_terms` terms per group) so a user can follow the score line by line. Printing is the CLI's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.filter.results import Hit, MatchResult, TierCheck, Trace
    from crawler.filter.rules import RuleSet


@dataclass(frozen=True, slots=True)
class TermPoints:
    """One term found, and what it earned (0 for an exclusion's term or one past max_terms)."""

    term: str
    place: str | None
    text: str
    zones: tuple[str, ...]
    count: int
    multiplier: float
    points: float
    counted: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "place": self.place,
            "text": self.text,
            "zones": list(self.zones),
            "count": self.count,
            "multiplier": self.multiplier,
            "points": self.points,
            "counted": self.counted,
        }


@dataclass(frozen=True, slots=True)
class GroupPoints:
    name: str
    weight: float
    max_terms: int
    where: str
    terms: tuple[TermPoints, ...]
    score: float  # as the engine computed it


@dataclass(frozen=True, slots=True)
class ExclusionPoints:
    name: str
    penalty: float
    where: str
    terms: tuple[TermPoints, ...]  # empty when the exclusion did not fire


@dataclass(frozen=True, slots=True)
class Explanation:
    rules: str  # the rules file
    rules_digest: str
    title_weight: float
    lead_chars: int
    lead_weight: float
    result: MatchResult
    groups: tuple[GroupPoints, ...]
    exclusions: tuple[ExclusionPoints, ...]
    tiers: tuple[TierCheck, ...]

    @property
    def deciding_tier(self) -> int | None:
        """The index in `tiers` of the first tier block that holds: the one that decided."""
        return next((i for i, tier in enumerate(self.tiers) if tier.held), None)

    def to_dict(self) -> dict[str, Any]:
        result = self.result
        return {
            "rules": self.rules,
            "rules_digest": self.rules_digest,
            "matched": result.matched,
            "score": result.score,
            "threshold": result.threshold,
            "tier": result.tier,
            "reason": result.reason,
            "regions": list(result.regions),
            "partners": list(result.partners),
            "zones": {
                "title_weight": self.title_weight,
                "lead_chars": self.lead_chars,
                "lead_weight": self.lead_weight,
            },
            "groups": [
                {
                    "name": group.name,
                    "weight": group.weight,
                    "max_terms": group.max_terms,
                    "where": group.where,
                    "score": group.score,
                    "terms": [term.to_dict() for term in group.terms],
                }
                for group in self.groups
            ],
            "exclusions": [
                {
                    "name": exclusion.name,
                    "penalty": exclusion.penalty,
                    "where": exclusion.where,
                    "fired": bool(exclusion.terms),
                    "terms": [term.to_dict() for term in exclusion.terms],
                }
                for exclusion in self.exclusions
            ],
            "tiers": [
                {
                    "name": tier.name,
                    "held": tier.held,
                    "decided": index == self.deciding_tier,
                    "conditions": [{"held": held, "text": text} for held, text in tier.conditions],
                }
                for index, tier in enumerate(self.tiers)
            ],
        }


def explain(rules: RuleSet, rules_digest: str, trace: Trace) -> Explanation:
    """Every group and exclusion of `rules` with the terms `trace` found and their points."""
    by_owner: dict[tuple[bool, str], list[Hit]] = {}
    for hit in trace.hits:
        by_owner.setdefault((hit.exclusion, hit.owner), []).append(hit)
    groups = tuple(
        GroupPoints(
            name=group.name,
            weight=group.weight,
            max_terms=group.max_terms,
            where=group.where,
            terms=_points(by_owner.get((False, group.name), []), group.weight, group.max_terms),
            score=trace.result.group_scores.get(group.name, 0.0),
        )
        for group in rules.groups
    )
    exclusions = tuple(
        ExclusionPoints(
            name=exclusion.name,
            penalty=exclusion.penalty,
            where=exclusion.where,
            terms=_points(by_owner.get((True, exclusion.name), []), 0.0, None),
        )
        for exclusion in rules.exclusions
    )
    settings = rules.settings
    return Explanation(
        rules=rules.source,
        rules_digest=rules_digest,
        title_weight=settings.title_weight,
        lead_chars=settings.lead_chars,
        lead_weight=settings.lead_weight,
        result=trace.result,
        groups=groups,
        exclusions=exclusions,
        tiers=trace.tiers,
    )


def _points(hits: list[Hit], weight: float, max_terms: int | None) -> tuple[TermPoints, ...]:
    """The hits in text order; only the `max_terms` best multipliers count, as in the engine
    (None: all count, as an exclusion's terms do, for no points of their own)."""
    best = sorted(range(len(hits)), key=lambda index: -hits[index].multiplier)[:max_terms]
    return tuple(
        TermPoints(
            term=hit.term,
            place=hit.place,
            text=hit.text,
            zones=hit.zones,
            count=hit.count,
            multiplier=hit.multiplier,
            points=round(weight * hit.multiplier, 2) if index in best else 0.0,
            counted=index in best,
        )
        for index, hit in enumerate(hits)
    )
