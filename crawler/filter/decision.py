"""The decision on one article, from the positions of the terms the scan found: group scores
with zone multipliers, penalties, the first tier whose conditions all hold, and the words that
explain it. `crawler.filter.engine` finds the terms; this module only counts and reasons.
"""

from __future__ import annotations

from bisect import bisect_left
from functools import partial
from typing import TYPE_CHECKING

from crawler.filter.results import Hit, MatchResult, TierCheck

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from crawler.filter.compiled import CompiledRules, CompiledTier, Label


class Decision:
    """Turns the positions of the terms found into group scores, a tier and an explanation."""

    def __init__(
        self, compiled: CompiledRules, found: dict[Label, list[int]], folded: str, title_end: int
    ) -> None:
        rules = compiled.rules
        settings = rules.settings
        self.rules = rules
        self.folded = folded
        lead_end = title_end + 1 + settings.lead_chars
        wheres = compiled.wheres
        self.positions: list[list[int]] = [[] for _ in wheres]
        self.labels: list[dict[Label, float]] = [{} for _ in wheres]
        places: dict[str, dict[str, int]] = {"regions": {}, "partners": {}}
        for label, all_positions in found.items():
            owner = label[0]
            positions = _keep(all_positions, wheres[owner], title_end, lead_end)
            if not positions:
                continue
            self.positions[owner].extend(positions)
            if positions[0] >= lead_end:  # the common case: only in the body
                self.labels[owner][label] = 1.0
            else:
                self.labels[owner][label] = _zone_weight(
                    positions, title_end, lead_end, settings.title_weight, settings.lead_weight
                )
            if label[2] is not None:
                kind = compiled.reports.get(label[:2])
                if kind:
                    seen = places[kind]
                    seen[label[2]] = min(positions[0], seen.get(label[2], len(folded)))
        self.places = {kind: sorted(seen, key=seen.__getitem__) for kind, seen in places.items()}
        self.tiers = compiled.tiers
        # Kept, not used, by `result`: `hits` reads them again for `RuleEngine.trace`.
        self.compiled, self.found = compiled, found
        self.title_end, self.lead_end = title_end, lead_end

    def result(self) -> MatchResult:
        rules = self.rules
        groups: dict[str, list[str]] = {}
        group_scores: dict[str, float] = {}
        for index, group in enumerate(rules.groups):
            labels = self.labels[index]
            if not labels:
                continue
            groups[group.name] = [group.terms[i] for i in self._term_indexes(index)]
            weights = list(labels.values())
            if len(weights) > group.max_terms:
                weights = sorted(weights, reverse=True)[: group.max_terms]
            group_scores[group.name] = round(group.weight * sum(weights), 2)
        excluded: list[str] = []
        penalties: dict[str, float] = {}
        for offset, exclusion in enumerate(rules.exclusions):
            owner = len(rules.groups) + offset
            if self.labels[owner]:
                penalties[exclusion.name] = exclusion.penalty
                excluded.extend(exclusion.terms[i] for i in self._term_indexes(owner))
        score = round(sum(group_scores.values()) - sum(penalties.values()), 2)
        threshold = rules.settings.threshold
        tier, reason = self._tier(score, threshold)
        return MatchResult(
            matched=tier is not None or (not rules.tiers and score >= threshold),
            score=score,
            threshold=threshold,
            groups=groups,
            excluded=list(dict.fromkeys(excluded)),
            tier=tier,
            regions=self.places["regions"],
            partners=self.places["partners"],
            group_scores=group_scores,
            penalties=penalties,
            reason=reason,
        )

    def _term_indexes(self, owner: int) -> list[int]:
        return sorted({label[1] for label in self.labels[owner]})

    def _tier(self, score: float, threshold: float) -> tuple[str | None, str]:
        if not self.tiers:
            verdict = ">=" if score >= threshold else "<"
            return None, f"score {score:g} {verdict} threshold {threshold:g}"
        failures = []
        for tier in self.tiers:
            problem = self._tier_problem(tier, score, threshold)
            if problem is None:
                return tier.rule.name, f"{tier.rule.name}: all conditions met, score {score:g}"
            failures.append(f"{tier.rule.name}: {problem}")
        return None, "; ".join(failures)

    def _tier_problem(self, tier: CompiledTier, score: float, threshold: float) -> str | None:
        """What keeps an article out of a tier, in words; None when it qualifies."""
        for held, describe in self._conditions(tier, score, threshold):
            if not held:
                return describe()
        return None

    def _conditions(
        self, tier: CompiledTier, score: float, threshold: float
    ) -> Iterator[tuple[bool, Callable[[], str]]]:
        """Each condition of a tier, whether it holds, and how to say it. Lazily, and the words
        only on demand: `_tier_problem` stops at the first failure and words only that one, so
        the crawl's decisions format nothing for the conditions that hold."""
        labels, rule = self.labels, tier.rule
        for alternatives, names in zip(tier.require, rule.require, strict=True):
            present = [
                name for index, name in zip(alternatives, names, strict=True) if labels[index]
            ]
            if present:
                yield True, partial(_terms_present, names, present)
            else:
                yield False, partial(_terms_missing, names)
        for index, name in zip(tier.forbid, rule.forbid, strict=True):
            if labels[index]:
                yield False, partial("{} is present".format, name)
            else:
                yield True, partial("no {}".format, name)
        for (index, count), (name, _) in zip(tier.min_terms, rule.min_terms, strict=True):
            found = len(labels[index])
            if found < count:
                yield False, partial("needs {} terms of {}, found {}".format, count, name, found)
            else:
                yield True, partial("{2} terms of {1} (needs {0})".format, count, name, found)
        if tier.near is not None and rule.near is not None:
            left = sorted(p for index in tier.near[0] for p in self.positions[index])
            right = sorted(p for index in tier.near[1] for p in self.positions[index])
            sides = " and ".join(" | ".join(side) for side in rule.near)
            if self._near(left, right, rule.within_words):
                yield True, lambda: f"{sides} within {rule.within_words} words"
            else:
                yield False, lambda: f"{sides} are never within {rule.within_words} words"
        minimum = threshold if rule.min_score is None else rule.min_score
        if score < minimum:
            yield False, lambda: f"score {score:g} < {minimum:g}"
        else:
            yield True, lambda: f"score {score:g} >= {minimum:g}"

    def tier_checks(self, score: float) -> tuple[TierCheck, ...]:
        """Every condition of every tier, for `RuleEngine.trace`; `score` is the result's."""
        threshold = self.rules.settings.threshold
        return tuple(
            TierCheck(
                tier.rule.name,
                tuple(
                    (held, describe())
                    for held, describe in self._conditions(tier, score, threshold)
                ),
            )
            for tier in self.tiers
        )

    def hits(self) -> tuple[Hit, ...]:
        """Every term found in the part of the article its group or exclusion looks at."""
        hits = []
        compiled, groups = self.compiled, len(self.rules.groups)
        for label in sorted(self.found, key=lambda label: (label[0], self.found[label][0])):
            owner = label[0]
            positions = _keep(
                self.found[label], compiled.wheres[owner], self.title_end, self.lead_end
            )
            if not positions:
                continue
            rule = compiled.owners[owner]
            zones = (_zone(p, self.title_end, self.lead_end) for p in positions)
            hits.append(
                Hit(
                    owner=rule.name,
                    exclusion=owner >= groups,
                    term=rule.terms[label[1]],
                    place=label[2],
                    zones=tuple(dict.fromkeys(zones)),
                    count=len(positions),
                    multiplier=self.labels[owner][label],
                    text=compiled.found_text(label, positions[0], self.folded),
                )
            )
        return tuple(hits)

    def _near(self, left: list[int], right: list[int], within: int) -> bool:
        for a in left:
            for b in right:
                start, end = (a, b) if a <= b else (b, a)
                if end - start > within * 40:  # too far even for short words: skip counting
                    continue
                words = self.folded.count(" ", start, end) + self.folded.count("\n", start, end)
                if words <= within:
                    return True
        return False


def _keep(positions: list[int], where: str, title_end: int, lead_end: int) -> list[int]:
    """The positions inside the part of the article a group or exclusion looks at."""
    if where == "anywhere":
        return positions
    if where == "title":
        return positions[: bisect_left(positions, title_end)]
    if where == "lead":
        return positions[: bisect_left(positions, lead_end)]
    return positions[bisect_left(positions, title_end) :]


def _zone_weight(
    positions: list[int], title_end: int, lead_end: int, title_weight: float, lead_weight: float
) -> float:
    """The best multiplier among the zones a term occurs in: title, lead or rest of the text."""
    weights = []
    if positions[0] < title_end:
        weights.append(title_weight)
    in_text = bisect_left(positions, title_end)
    if in_text < len(positions) and positions[in_text] < lead_end:
        weights.append(lead_weight)
    if positions[-1] >= lead_end:
        weights.append(1.0)
    return max(weights)


def _zone(position: int, title_end: int, lead_end: int) -> str:
    if position < title_end:
        return "title"
    return "lead" if position < lead_end else "body"


def _terms_present(names: tuple[str, ...], present: list[str]) -> str:
    return f"a term of {' | '.join(names)} ({', '.join(present)})"


def _terms_missing(names: tuple[str, ...]) -> str:
    return f"no term of {' | '.join(names)}"
