"""What the rule engine answers: a `MatchResult` per article, and for `newswatch rules explain`
a `Trace` of the terms found (`Hit`) and of each tier's conditions (`TierCheck`).

Plain data: the engine builds them, `crawler.filter.explain` and the CLI read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class MatchResult:
    """A decision and its explanation; `groups` holds terms exactly as written in the rules."""

    matched: bool
    score: float
    threshold: float
    groups: dict[str, list[str]]
    excluded: list[str]
    tier: str | None = None
    regions: list[str] = field(default_factory=list)  # Moroccan regions, as in the gazetteer
    partners: list[str] = field(default_factory=list)  # foreign regions, states and cities
    group_scores: dict[str, float] = field(default_factory=dict)
    penalties: dict[str, float] = field(default_factory=dict)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy, stored with each article as the explanation of its decision.

        Written out rather than `dataclasses.asdict`, whose deep copy cost 0.3 ms an article.
        """
        return {
            "matched": self.matched,
            "score": self.score,
            "threshold": self.threshold,
            "groups": {name: list(terms) for name, terms in self.groups.items()},
            "excluded": list(self.excluded),
            "tier": self.tier,
            "regions": list(self.regions),
            "partners": list(self.partners),
            "group_scores": dict(self.group_scores),
            "penalties": dict(self.penalties),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Hit:
    """One term found, as `RuleEngine.trace` reports it: where, and its zone multiplier."""

    owner: str  # the group or exclusion
    exclusion: bool
    term: str  # as written in the rules
    place: str | None  # the gazetteer name a "<gazetteer>" term matched
    zones: tuple[str, ...]  # "title", "lead", "body", in the order first met
    count: int  # occurrences in the part of the article the owner looks at
    multiplier: float  # the best of title_weight, lead_weight and 1 among its zones
    text: str  # the words found there, folded (shows what a "coopér*" caught)


@dataclass(frozen=True, slots=True)
class TierCheck:
    """Every condition of one tier block, in order, each with whether it held."""

    name: str
    conditions: tuple[tuple[bool, str], ...]

    @property
    def held(self) -> bool:
        return all(held for held, _ in self.conditions)


@dataclass(frozen=True, slots=True)
class Trace:
    """A decision with its evidence, for `newswatch rules explain`."""

    result: MatchResult
    hits: tuple[Hit, ...]
    tiers: tuple[TierCheck, ...]
