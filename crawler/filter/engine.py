"""The rule engine: one scan of the folded title and text, then a scored, explained decision.

Terms, place names and the fixed parts of terms like "État de <us_states>" are compiled into one
trie-shaped regular expression that reports, at every word start, the longest piece found there:
an article costs one pass of the regex engine whatever the number of terms. What a hit string
means is worked out once and cached. Loading rules is left to `crawler.filter.rules`, folding and
term patterns to `crawler.filter.normalize`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from bisect import bisect_left
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from crawler.filter.normalize import (
    ATOM_REGEX,
    REF,
    WILD,
    Expansion,
    is_arabic,
    normalize_text,
    pieces_regex,
    split_template,
    term_atoms,
)
from crawler.filter.rules import (
    ExclusionRule,
    GroupRule,
    RuleSet,
    TierRule,
    load_rules_file,
    parse_rules,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

logger = logging.getLogger(__name__)

_ARABIC_BUCKET = "\u0600"  # index key for pieces that start with an optional Arabic prefix
_MATCHING_VERSION = 1  # bump when a change to matching or scoring can change a decision
_CACHE_LIMIT = 50_000  # distinct hit strings; the vocabulary of the news stays well below this
_REFERENCE = re.compile(r"<([^<>]*)>")
# Once folded, a word starts after a space, a line break or a punctuation mark. Anchoring the scan
# on this small set lets the regex engine skip from one to the next in C: measured as fast as
# spaces alone and 25% faster than \W.
_WORD_START = "[ \n.,;:!?\u060c\u061b\u061f]"
_BREAKS = frozenset(_WORD_START[1:-1])
_PLACE_REACH = 120  # characters from a template's start to its place name, for `trace`
# A term found: (owner, term index, place or None); owners are the groups, then the exclusions.
Label = tuple[int, int, str | None]
_Place = tuple[int, int, str, bool]  # gazetteer, length, place name, counts alone
_Part = tuple[int, int]  # template, length: the fixed text before or after a place name
# What a hit string means: plain terms, then (place names, template prefixes, suffixes) if any.
_Extras = tuple[tuple[_Place, ...], tuple[_Part, ...], tuple[_Part, ...]]
_Hit = tuple[tuple[Label, ...], _Extras | None]


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


@dataclass(frozen=True, slots=True)
class _Template:
    """A term with a <gazetteer> reference, such as "État de <us_states>"."""

    owner: int
    term_index: int
    gazetteer: int
    has_prefix: bool
    has_suffix: bool


@dataclass(frozen=True, slots=True)
class _CompiledTier:
    """A tier with its group names turned into indexes, once, at build time."""

    rule: TierRule
    require: tuple[tuple[int, ...], ...]
    forbid: tuple[int, ...]
    min_terms: tuple[tuple[int, int], ...]
    near: tuple[tuple[int, ...], tuple[int, ...]] | None

    @classmethod
    def build(cls, rule: TierRule, index: dict[str, int]) -> _CompiledTier:
        near = None
        if rule.near is not None:
            near = (
                tuple(index[name] for name in rule.near[0]),
                tuple(index[name] for name in rule.near[1]),
            )
        return cls(
            rule,
            tuple(tuple(index[name] for name in names) for names in rule.require),
            tuple(index[name] for name in rule.forbid),
            tuple((index[name], count) for name, count in rule.min_terms),
            near,
        )


@dataclass(slots=True)
class _Uses:
    """What one compiled piece stands for (one piece may serve several terms)."""

    terms: list[tuple[int, int]] = field(default_factory=list)  # (owner, term index)
    places: list[tuple[int, str, bool]] = field(default_factory=list)  # gazetteer, name, alone
    prefixes: list[int] = field(default_factory=list)  # templates
    suffixes: list[int] = field(default_factory=list)


class RuleEngine:
    """Built once per worker process from a rules file; `evaluate` is the hot path."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.rules_digest = _digest(rules)
        self._owners: list[GroupRule | ExclusionRule] = [*rules.groups, *rules.exclusions]
        self._pieces: dict[Expansion, int] = {}
        self._uses: list[_Uses] = []
        self._templates: list[_Template] = []
        self._bare: dict[int, list[tuple[int, int]]] = {}  # gazetteer -> terms "<name>"
        self._reports: dict[tuple[int, int], str] = {}  # term -> "regions" / "partners"
        self._compile()
        self._piece_list = list(self._pieces)
        self._scan = re.compile(_WORD_START + "(?=(" + pieces_regex(self._piece_list) + "))")
        self._piece_regex: list[re.Pattern[str] | None] = [None] * len(self._piece_list)
        self._by_first_char: dict[str, list[int]] = {}
        for index, piece in enumerate(self._piece_list):
            self._by_first_char.setdefault(_first_key(piece), []).append(index)
        self._cache: dict[str, _Hit] = {}
        group_index = {g.name: i for i, g in enumerate(rules.groups)}
        self._tiers = [_CompiledTier.build(tier, group_index) for tier in rules.tiers]
        self._wheres = [owner.where for owner in self._owners]
        logger.debug(
            "Compiled %d pieces from %s (digest %s)",
            len(self._piece_list),
            rules.source,
            self.rules_digest,
        )

    @classmethod
    def from_path(cls, path: Path | str) -> Self:
        return cls(load_rules_file(Path(path)))

    @classmethod
    def from_toml_text(
        cls, text: str, source_name: str = "<string>", base_dir: Path | None = None
    ) -> Self:
        """Rules from a string; gazetteer files are looked up in `base_dir`, then in seeds/."""
        return cls(parse_rules(text, source_name, base_dir))

    def evaluate(self, title: str, text: str, language: str | None = None) -> MatchResult:
        """Score one article. `language` is accepted for rules that may use it later."""
        return self._decide(title, text).result()

    def trace(self, title: str, text: str, language: str | None = None) -> Trace:
        """`evaluate` with its evidence: every term found and where, and every tier condition.

        Slower than `evaluate` (it checks every condition of every tier); for `rules explain`.
        """
        decision = self._decide(title, text)
        result = decision.result()
        return Trace(result, decision.hits(), decision.tier_checks(result.score))

    def _decide(self, title: str, text: str) -> _Decision:
        """One scan of the folded article; `evaluate` and `trace` read the decision it gives."""
        folded_title = normalize_text(title) if title else ""
        folded = f"\n{folded_title}\n{normalize_text(text) if text else ''}"
        starts: dict[str, list[int]] = {}
        for match in self._scan.finditer(folded):
            hit = match.group(1)
            if hit in starts:
                starts[hit].append(match.start() + 1)
            else:
                starts[hit] = [match.start() + 1]
        found: dict[Label, list[int]] = {}
        extras: list[tuple[int, _Extras]] = []
        merged: set[Label] = set()
        names = False  # without a place name, no template can match
        for hit, positions in starts.items():
            labels, extra = self._cache.get(hit) or self._attribute(hit)
            for label in labels:
                if label in found:  # "coopération" and "coopérer" both feed "coopér*"
                    found[label] = [*found[label], *positions]
                    merged.add(label)
                else:
                    found[label] = positions
            if extra is not None:
                extras.extend((start, extra) for start in positions)
                names = names or bool(extra[0])
        for label in merged:
            found[label].sort()
        if names:
            extras.sort(key=_position)
            self._assemble(folded, found, extras)
        return _Decision(self, found, folded, len(folded_title) + 1)

    def _assemble(
        self, folded: str, found: dict[Label, list[int]], extras: list[tuple[int, _Extras]]
    ) -> None:
        """Turn place names into terms: alone ("<us_states>") or next to the fixed parts of a
        template ("État de" + "Virginie"). At one position the longest name wins."""
        by_start: dict[tuple[int, int], tuple[int, str]] = {}
        by_end: dict[tuple[int, int], tuple[int, str]] = {}
        reach: dict[int, int] = {}  # gazetteer -> end of the last name counted alone
        suffixes: dict[tuple[int, int], int] = {}
        added: dict[Label, list[int]] = {}
        for start, (names, _, after) in extras:
            for gazetteer, length, place, alone in names:  # longest first
                end = start + length
                by_start.setdefault((gazetteer, start), (end, place))
                by_end.setdefault((gazetteer, end), (start, place))
                if end <= reach.get(gazetteer, -1):
                    continue  # "Virginia" inside "West Virginia"
                reach[gazetteer] = end
                if alone:
                    for owner, term_index in self._bare.get(gazetteer, ()):
                        added.setdefault((owner, term_index, place), []).append(start)
            for template_index, length in after:
                suffixes[template_index, start] = start + length
        for start, (_, before, _) in extras:
            for template_index, length in before:
                template = self._templates[template_index]
                name = by_start.get((template.gazetteer, _next_word(folded, start + length)))
                if name is None or (
                    template.has_suffix
                    and (template_index, _next_word(folded, name[0])) not in suffixes
                ):
                    continue
                label: Label = (template.owner, template.term_index, name[1])
                added.setdefault(label, []).append(start)
        for template_index, start in suffixes:
            template = self._templates[template_index]
            end = start
            while end > 0 and folded[end - 1] == " ":
                end -= 1
            name_start = by_end.get((template.gazetteer, end))
            if not template.has_prefix and end < start and name_start is not None:
                label = (template.owner, template.term_index, name_start[1])
                added.setdefault(label, []).append(name_start[0])
        for label, positions in added.items():  # two spellings of one term may interleave
            found[label] = sorted(positions)

    def _attribute(self, hit: str) -> _Hit:
        """What a hit string stands for: every piece that matches at its start."""
        candidates = self._by_first_char.get(hit[0], [])
        if is_arabic(hit[0]):
            candidates = candidates + self._by_first_char.get(_ARABIC_BUCKET, [])
        labels: list[Label] = []
        places: list[_Place] = []
        prefixes: list[_Part] = []
        suffixes: list[_Part] = []
        for index in candidates:
            match = self._regex(index).match(hit)
            if match is None:
                continue
            uses, length = self._uses[index], match.end()
            labels.extend((owner, term_index, None) for owner, term_index in uses.terms)
            places.extend((g, length, name, alone) for g, name, alone in uses.places)
            prefixes.extend((template, length) for template in uses.prefixes)
            suffixes.extend((template, length) for template in uses.suffixes)
        places.sort(key=lambda name: -name[1])
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        extras = (tuple(places), tuple(prefixes), tuple(suffixes))
        result: _Hit = (tuple(labels), extras if any(extras) else None)
        self._cache[hit] = result
        return result

    def _found_text(self, label: Label, position: int, folded: str) -> str:
        """The folded words a term matched at `position`; for a place term, up to the end of
        the place's name (a template's fixed text after the name is left out). Slow: `trace`."""
        owner, term_index, place = label
        if place is None:
            pieces = [i for i, uses in enumerate(self._uses) if (owner, term_index) in uses.terms]
            starts = [position]
        else:
            pieces = [i for i, u in enumerate(self._uses) if any(p[1] == place for p in u.places)]
            window = folded[position : position + _PLACE_REACH]
            starts = [position] + [position + i + 1 for i, c in enumerate(window) if c in _BREAKS]
        for start in starts:
            matches = [self._regex(index).match(folded, start) for index in pieces]
            ends = [match.end() for match in matches if match is not None]
            if ends:
                return folded[position : max(ends)].strip()
        return ""

    def _regex(self, index: int) -> re.Pattern[str]:
        pattern = self._piece_regex[index]
        if pattern is None:
            pattern = re.compile(pieces_regex([self._piece_list[index]]))
            self._piece_regex[index] = pattern
        return pattern

    def _compile(self) -> None:
        """Split every term into pieces: plain terms, template parts and place names."""
        gazetteers = {g.name: i for i, g in enumerate(self.rules.gazetteers)}
        for owner, rule in enumerate(self._owners):
            # "coopération" and "cooperation" fold alike: one term, counted once, shown as
            # its first spelling in the rules.
            # The key holds the gazetteer too: "<us_states>" and "<foreign_regions>" fold alike.
            first_spelling: dict[tuple[Expansion, str | None], int] = {}
            for index, term in enumerate(rule.terms):
                atoms = term_atoms(term)
                reference = _REFERENCE.search(term)
                referenced = reference.group(1) if reference else None
                term_index = first_spelling.setdefault((atoms, referenced), index)
                if reference is None:
                    self._use(atoms).terms.append((owner, term_index))
                    continue
                gazetteer = gazetteers[reference.group(1)]
                reports = self.rules.gazetteers[gazetteer].reports
                if reports and owner < len(self.rules.groups):
                    self._reports[owner, term_index] = reports
                if atoms == (REF,):
                    self._bare.setdefault(gazetteer, []).append((owner, term_index))
                    continue
                prefix, suffix = split_template(atoms)
                template = len(self._templates)
                self._templates.append(
                    _Template(owner, term_index, gazetteer, bool(prefix), bool(suffix))
                )
                if prefix:
                    self._use(prefix).prefixes.append(template)
                if suffix:
                    self._use(suffix).suffixes.append(template)
        used = {t.gazetteer for t in self._templates} | set(self._bare)
        for gazetteer in sorted(used):
            for place in self.rules.gazetteers[gazetteer].places:
                for spelling in place.spellings:
                    uses = self._use(term_atoms(spelling.text))
                    uses.places.append((gazetteer, place.name, spelling.alone))

    def _use(self, atoms: Expansion) -> _Uses:
        index = self._pieces.setdefault(atoms, len(self._pieces))
        if index == len(self._uses):
            self._uses.append(_Uses())
        return self._uses[index]


class _Decision:
    """Turns the positions of the terms found into group scores, a tier and an explanation."""

    def __init__(
        self, engine: RuleEngine, found: dict[Label, list[int]], folded: str, title_end: int
    ) -> None:
        rules = engine.rules
        settings = rules.settings
        self.rules = rules
        self.folded = folded
        lead_end = title_end + 1 + settings.lead_chars
        wheres = engine._wheres
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
                kind = engine._reports.get(label[:2])
                if kind:
                    seen = places[kind]
                    seen[label[2]] = min(positions[0], seen.get(label[2], len(folded)))
        self.places = {kind: sorted(seen, key=seen.__getitem__) for kind, seen in places.items()}
        self.tiers = engine._tiers
        # Kept, not used, by `result`: `hits` reads them again for `RuleEngine.trace`.
        self.engine, self.found = engine, found
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

    def _tier_problem(self, tier: _CompiledTier, score: float, threshold: float) -> str | None:
        """What keeps an article out of a tier, in words; None when it qualifies."""
        for held, describe in self._conditions(tier, score, threshold):
            if not held:
                return describe()
        return None

    def _conditions(
        self, tier: _CompiledTier, score: float, threshold: float
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
        engine, groups = self.engine, len(self.rules.groups)
        for label in sorted(self.found, key=lambda label: (label[0], self.found[label][0])):
            owner = label[0]
            positions = _keep(
                self.found[label], engine._wheres[owner], self.title_end, self.lead_end
            )
            if not positions:
                continue
            rule = engine._owners[owner]
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
                    text=engine._found_text(label, positions[0], self.folded),
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


def _position(item: tuple[int, _Extras]) -> int:
    return item[0]


def _terms_present(names: tuple[str, ...], present: list[str]) -> str:
    return f"a term of {' | '.join(names)} ({', '.join(present)})"


def _terms_missing(names: tuple[str, ...]) -> str:
    return f"no term of {' | '.join(names)}"


def _next_word(folded: str, position: int) -> int:
    """Where the next word starts if only spaces follow `position`, else -1."""
    end = position
    while end < len(folded) and folded[end] == " ":
        end += 1
    return end if end > position else -1


def _first_key(piece: Expansion) -> str:
    first = piece[0]
    if first in ATOM_REGEX:
        return _ARABIC_BUCKET if first != WILD else ""
    return first


def _digest(rules: RuleSet) -> str:
    """A short hash of everything that can change a decision: the rules (not their comments or
    layout) and the version of the matching semantics."""
    content = {
        "engine": _MATCHING_VERSION,
        "settings": asdict(rules.settings),
        "gazetteers": [asdict(g) for g in rules.gazetteers],
        "groups": [asdict(g) for g in rules.groups],
        "exclusions": [asdict(e) for e in rules.exclusions],
        "tiers": [asdict(t) for t in rules.tiers],
    }
    blob = json.dumps(content, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]
