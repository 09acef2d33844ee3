"""The rule engine: one scan of the folded title and text, then a scored, explained decision.

All terms, place names and the fixed parts of terms like "État de <us_states>" are compiled into
a single trie-shaped regular expression that reports, at every word start, the longest piece
found there: an article costs one pass of the regex engine whatever the number of terms. Each
distinct hit string is attributed to its pieces once and cached. Loading rules is left to
`crawler.filter.rules`, folding and term patterns to `crawler.filter.normalize`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from bisect import bisect_left
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Self

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
from crawler.filter.rules import RuleSet, TierRule, load_rules_file, parse_rules

logger = logging.getLogger(__name__)

_ARABIC_BUCKET = "\u0600"  # attribution index key for pieces that start with an Arabic prefix
_CACHE_LIMIT = 50_000  # distinct hit strings; news vocabulary stays well below this
_REFERENCE = re.compile(r"<([^<>]*)>")
_TITLE, _LEAD = 0, 1  # indexes into the zone weights (title, lead, rest of the text)
# A matched term: (owner, term index, place); owner indexes groups, then exclusions.
Label = tuple[int, int, str | None]


@dataclass(frozen=True, slots=True)
class MatchResult:
    """A decision and its explanation; `groups` holds terms exactly as written in the rules."""

    matched: bool
    score: float
    threshold: float
    groups: dict[str, list[str]]
    excluded: list[str]
    tier: str | None = None
    regions: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)
    group_scores: dict[str, float] = field(default_factory=dict)
    penalties: dict[str, float] = field(default_factory=dict)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy, stored with each article as the explanation of its decision."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Template:
    """A term with a <gazetteer> reference, such as "État de <us_states>"."""

    owner: int  # index into groups, then exclusions
    term_index: int
    gazetteer: int
    has_prefix: bool
    has_suffix: bool


# What a hit string means beyond plain terms: place names (gazetteer, length, place, alone)
# and the fixed parts of templates before and after a place name (template, length).
_Extras = tuple[
    tuple[tuple[int, int, str, bool], ...], tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]
]
# The cache's values: the plain terms a hit string stands for, and its extras if any.
_Hit = tuple[tuple[Label, ...], _Extras | None]


class RuleEngine:
    """Built once per worker process from a rules file; `evaluate` is the hot path."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.rules_digest = _digest(rules)
        self._pieces: dict[Expansion, int] = {}
        self._uses: list[list[tuple[str, Any]]] = []
        self._templates: list[_Template] = []
        self._bare: dict[int, list[tuple[int, int]]] = {}  # gazetteer -> (owner, term index)
        self._compile()
        pieces = list(self._pieces)
        self._scan = re.compile(r"[ \n](?=(" + pieces_regex(pieces) + "))")
        self._piece_regex: list[re.Pattern[str] | None] = [None] * len(pieces)
        self._by_first_char: dict[str, list[int]] = {}
        for piece, index in self._pieces.items():
            self._by_first_char.setdefault(_first_key(piece), []).append(index)
        self._cache: dict[str, _Hit] = {}
        logger.debug(
            "Compiled %d pieces from %s (digest %s)", len(pieces), rules.source, self.rules_digest
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
        folded_title = normalize_text(title) if title else ""
        # Words start after a space or a line break once folded, so the scan looks for those.
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
        get = self._cache.get
        for hit, positions in starts.items():
            labels, extra = get(hit) or self._attribute(hit)
            for label in labels:
                if label in found:
                    found[label] = [*found[label], *positions]  # never extend a shared list
                    merged.add(label)
                else:
                    found[label] = positions
            if extra is not None:
                extras.extend((start, extra) for start in positions)
        for label in merged:  # "coopération" and "coopérer" both feed "coopér*"
            found[label] = sorted(found[label])
        if extras:
            extras.sort(key=_first)
            self._assemble(folded, found, extras)
        title_end = len(folded_title) + 1
        return _Decision(self.rules, found, folded, title_end, self._reports).result()

    def _assemble(
        self, folded: str, found: dict[Label, list[int]], extras: list[tuple[int, _Extras]]
    ) -> None:
        """Turn place names into term matches: alone ("<us_states>") or next to the fixed
        parts of a template ("État de" + "Virginie"). The longest name found wins."""
        # In text order, and longest first at one position (see `_attribute`).
        places = [
            (gazetteer, start, start + length, place, alone)
            for start, (names, _, _) in extras
            for gazetteer, length, place, alone in names
        ]
        by_start: dict[tuple[int, int], tuple[int, str]] = {}
        by_end: dict[tuple[int, int], tuple[int, str]] = {}
        reach: dict[int, int] = {}  # gazetteer -> end of the last name kept
        for gazetteer, start, end, place, alone in places:
            by_start.setdefault((gazetteer, start), (end, place))
            by_end.setdefault((gazetteer, end), (start, place))
            if end <= reach.get(gazetteer, -1):
                continue  # "Virginia" inside "West Virginia"
            reach[gazetteer] = end
            if alone:
                for owner, term_index in self._bare.get(gazetteer, ()):
                    found.setdefault((owner, term_index, place), []).append(start)
        suffixes = {
            (template, start): start + length
            for start, (_, _, after) in extras
            for template, length in after
        }
        for start, (_, before, _) in extras:
            for template_index, length in before:
                template = self._templates[template_index]
                name = by_start.get((template.gazetteer, _skip_spaces(folded, start + length)))
                if name is None:
                    continue
                if template.has_suffix:
                    if (template_index, _skip_spaces(folded, name[0])) not in suffixes:
                        continue
                label = (template.owner, template.term_index, name[1])
                found.setdefault(label, []).append(start)
        for template_index, start in suffixes:
            template = self._templates[template_index]
            if template.has_prefix:
                continue
            end = start
            while end > 0 and folded[end - 1] == " ":
                end -= 1
            name_start = by_end.get((template.gazetteer, end)) if end < start else None
            if name_start is not None:
                label = (template.owner, template.term_index, name_start[1])
                found.setdefault(label, []).append(name_start[0])

    def _attribute(self, hit: str) -> _Hit:
        """All pieces that match at the start of a hit string (shorter ones included)."""
        candidates = self._by_first_char.get(hit[0], [])
        if is_arabic(hit[0]):
            candidates = candidates + self._by_first_char.get(_ARABIC_BUCKET, [])
        labels: list[Label] = []
        places: list[tuple[int, int, str, bool]] = []
        prefixes: list[tuple[int, int]] = []
        suffixes: list[tuple[int, int]] = []
        for index in candidates:
            match = self._regex(index).match(hit)
            if match is None:
                continue
            for kind, use in self._uses[index]:
                if kind == "term":
                    labels.append((*use, None))
                elif kind == "place":
                    places.append((use[0], match.end(), use[1], use[2]))
                elif kind == "prefix":
                    prefixes.append((use, match.end()))
                else:
                    suffixes.append((use, match.end()))
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        places.sort(key=lambda name: -name[1])
        extras = (tuple(places), tuple(prefixes), tuple(suffixes))
        result: _Hit = (tuple(labels), extras if any(extras) else None)
        self._cache[hit] = result
        return result

    def _regex(self, index: int) -> re.Pattern[str]:
        pattern = self._piece_regex[index]
        if pattern is None:
            piece = list(self._pieces)[index]
            pattern = self._piece_regex[index] = re.compile(pieces_regex([piece]))
        return pattern

    def _compile(self) -> None:
        rules = self.rules
        gazetteers = {g.name: i for i, g in enumerate(rules.gazetteers)}
        self._reports: dict[tuple[int, int], str] = {}
        for owner, rule in enumerate([*rules.groups, *rules.exclusions]):
            # "coopération" and "cooperation" fold alike: one term, counted once, shown as
            # the first spelling in the rules.
            first_spelling: dict[Expansion, int] = {}
            for term_index, term in enumerate(rule.terms):
                reference = _REFERENCE.search(term)
                atoms = term_atoms(term)
                term_index = first_spelling.setdefault(atoms, term_index)
                if reference is None:
                    self._use(atoms, "term", (owner, term_index))
                    continue
                gazetteer = gazetteers[reference.group(1)]
                reports = rules.gazetteers[gazetteer].reports
                if reports and owner < len(rules.groups):
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
                    self._use(prefix, "prefix", template)
                if suffix:
                    self._use(suffix, "suffix", template)
        used = {t.gazetteer for t in self._templates} | set(self._bare)
        for gazetteer in sorted(used):
            for place in rules.gazetteers[gazetteer].places:
                for spelling in place.spellings:
                    atoms = term_atoms(spelling.text)
                    self._use(atoms, "place", (gazetteer, place.name, spelling.alone))

    def _use(self, atoms: Expansion, kind: str, use: Any) -> None:
        index = self._pieces.setdefault(atoms, len(self._pieces))
        if index == len(self._uses):
            self._uses.append([])
        if (kind, use) not in self._uses[index]:
            self._uses[index].append((kind, use))


def _first(item: tuple[int, _Extras]) -> int:
    return item[0]


def _skip_spaces(folded: str, position: int) -> int:
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
    """A short hash of everything that can change a decision (not comments or layout)."""
    content = {
        "settings": asdict(rules.settings),
        "gazetteers": [asdict(g) for g in rules.gazetteers],
        "groups": [asdict(g) for g in rules.groups],
        "exclusions": [asdict(e) for e in rules.exclusions],
        "tiers": [asdict(t) for t in rules.tiers],
    }
    blob = json.dumps(content, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]




class _Decision:
    """Turns the positions of the terms found into group scores, a tier and an explanation."""

    def __init__(
        self,
        rules: RuleSet,
        found: dict[Label, list[int]],
        folded: str,
        title_end: int,
        reports: dict[tuple[int, int], str],
    ) -> None:
        self.rules = rules
        self.folded = folded
        self.title_end = title_end
        self.lead_end = title_end + 1 + rules.settings.lead_chars
        settings = rules.settings
        zone_weight = (settings.title_weight, settings.lead_weight, 1.0)
        owners = [*rules.groups, *rules.exclusions]
        self.positions: list[list[int]] = [[] for _ in owners]
        self.labels: list[dict[Label, float]] = [{} for _ in owners]
        places: dict[str, dict[str, int]] = {"regions": {}, "partners": {}}
        title_end, lead_end = self.title_end, self.lead_end
        for label, positions in found.items():
            owner = label[0]
            where = owners[owner].where
            # Positions are in text order: the scan and the assembly both go left to right.
            if where == "title":
                positions = positions[: bisect_left(positions, title_end)]
            elif where == "lead":
                positions = positions[: bisect_left(positions, lead_end)]
            elif where == "text":
                positions = positions[bisect_left(positions, title_end) :]
            if not positions:
                continue
            self.positions[owner].extend(positions)
            first, last = positions[0], positions[-1]
            weight = 1.0 if last >= lead_end else 0.0
            if first < title_end:
                weight = max(weight, zone_weight[_TITLE])
            if first < lead_end and bisect_left(positions, title_end) < len(positions):
                if positions[bisect_left(positions, title_end)] < lead_end:
                    weight = max(weight, zone_weight[_LEAD])
            self.labels[owner][label] = weight
            kind = reports.get(label[:2]) if label[2] else None
            if kind and label[2]:
                seen = places[kind]
                seen[label[2]] = min(first, seen.get(label[2], len(folded)))
        self.places = {kind: sorted(seen, key=seen.__getitem__) for kind, seen in places.items()}
        self.group_index = {g.name: i for i, g in enumerate(rules.groups)}

    def result(self) -> MatchResult:
        rules = self.rules
        groups: dict[str, list[str]] = {}
        group_scores: dict[str, float] = {}
        for index, group in enumerate(rules.groups):
            if self.labels[index]:
                terms = sorted({label[1] for label in self.labels[index]})
                groups[group.name] = [group.terms[i] for i in terms]
                best = sorted(self.labels[index].values(), reverse=True)[: group.max_terms]
                group_scores[group.name] = round(group.weight * sum(best), 2)
        excluded: list[str] = []
        penalties: dict[str, float] = {}
        for offset, exclusion in enumerate(rules.exclusions):
            labels = self.labels[len(rules.groups) + offset]
            if labels:
                penalties[exclusion.name] = exclusion.penalty
                terms = sorted({label[1] for label in labels})
                excluded.extend(exclusion.terms[i] for i in terms)
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

    def _tier(self, score: float, threshold: float) -> tuple[str | None, str]:
        if not self.rules.tiers:
            verdict = ">=" if score >= threshold else "<"
            return None, f"score {score:g} {verdict} threshold {threshold:g}"
        failures = []
        for tier in self.rules.tiers:
            problem = self._tier_problem(tier, score, threshold)
            if problem is None:
                return tier.name, f"{tier.name}: all conditions met, score {score:g}"
            failures.append(f"{tier.name}: {problem}")
        return None, "; ".join(failures)

    def _tier_problem(self, tier: TierRule, score: float, threshold: float) -> str | None:
        """What keeps an article out of a tier, in words; None when it qualifies."""
        index = self.group_index
        for alternatives in tier.require:
            if not any(self.labels[index[name]] for name in alternatives):
                return f"no term of {' | '.join(alternatives)}"
        for name in tier.forbid:
            if self.labels[index[name]]:
                return f"{name} is present"
        for name, count in tier.min_terms:
            if len(self.labels[index[name]]) < count:
                return f"needs {count} terms of {name}, found {len(self.labels[index[name]])}"
        if tier.near is not None:
            left = sorted(p for name in tier.near[0] for p in self.positions[index[name]])
            right = sorted(p for name in tier.near[1] for p in self.positions[index[name]])
            if not self._near(left, right, tier.within_words):
                sides = " and ".join(" | ".join(side) for side in tier.near)
                return f"{sides} are never within {tier.within_words} words"
        minimum = threshold if tier.min_score is None else tier.min_score
        return f"score {score:g} < {minimum:g}" if score < minimum else None

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
