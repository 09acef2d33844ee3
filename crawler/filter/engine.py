"""The rule engine: one scan of the folded title and text, then a scored, explained decision.

Terms, place names and the fixed parts of terms like "État de <us_states>" are compiled into one
trie-shaped regular expression that reports, at every word start, the longest piece found there:
an article costs one pass of the regex engine whatever the number of terms. What a hit string
means is worked out once and cached. This module owns the scan, that cache and the assembly of
place names into terms; compiling the rules is `crawler.filter.compiled`'s, scoring
`crawler.filter.decision`'s, loading rules `crawler.filter.rules`'s and folding
`crawler.filter.normalize`'s. The result types live in `crawler.filter.results`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Self

from crawler.filter.compiled import ARABIC_BUCKET, CompiledRules
from crawler.filter.decision import Decision
from crawler.filter.normalize import is_arabic, normalize_text
from crawler.filter.results import MatchResult, Trace
from crawler.filter.rules import RuleSet, load_rules_file, parse_rules

if TYPE_CHECKING:
    from crawler.filter.compiled import (
        HitMeaning,
        Label,
        PlaceName,
        PlaceParts,
        TemplatePart,
    )

__all__ = ["RuleEngine"]

logger = logging.getLogger(__name__)

_MATCHING_VERSION = 2  # bump when a change to matching or scoring can change a decision
_CACHE_LIMIT = 50_000  # distinct hit strings; the vocabulary of the news stays well below this


class RuleEngine:
    """Built once per worker process from a rules file; `evaluate` is the hot path."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.rules_digest = _digest(rules)
        self._compiled = CompiledRules(rules)
        self._cache: dict[str, HitMeaning] = {}
        logger.debug(
            "Compiled %d pieces from %s (digest %s)",
            len(self._compiled.pieces),
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

    def _decide(self, title: str, text: str) -> Decision:
        """One scan of the folded article; `evaluate` and `trace` read the decision it gives."""
        folded_title = normalize_text(title) if title else ""
        folded = f"\n{folded_title}\n{normalize_text(text) if text else ''}"
        starts: dict[str, list[int]] = {}
        for match in self._compiled.scan.finditer(folded):
            hit = match.group(1)
            if hit in starts:
                starts[hit].append(match.start() + 1)
            else:
                starts[hit] = [match.start() + 1]
        found: dict[Label, list[int]] = {}
        extras: list[tuple[int, PlaceParts]] = []
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
        return Decision(self._compiled, found, folded, len(folded_title) + 1)

    def _assemble(
        self, folded: str, found: dict[Label, list[int]], extras: list[tuple[int, PlaceParts]]
    ) -> None:
        """Turn place names into terms: alone ("<us_states>") or next to the fixed parts of a
        template ("État de" + "Virginie"). At one position the longest name wins."""
        bare, templates = self._compiled.bare, self._compiled.templates
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
                    for owner, term_index in bare.get(gazetteer, ()):
                        added.setdefault((owner, term_index, place), []).append(start)
            for template_index, length in after:
                suffixes[template_index, start] = start + length
        for start, (_, before, _) in extras:
            for template_index, length in before:
                template = templates[template_index]
                name = by_start.get((template.gazetteer, _next_word(folded, start + length)))
                if name is None or (
                    template.has_suffix
                    and (template_index, _next_word(folded, name[0])) not in suffixes
                ):
                    continue
                label: Label = (template.owner, template.term_index, name[1])
                added.setdefault(label, []).append(start)
        for template_index, start in suffixes:
            template = templates[template_index]
            end = start
            while end > 0 and folded[end - 1] == " ":
                end -= 1
            name_start = by_end.get((template.gazetteer, end))
            if not template.has_prefix and end < start and name_start is not None:
                label = (template.owner, template.term_index, name_start[1])
                added.setdefault(label, []).append(name_start[0])
        for label, positions in added.items():  # two spellings of one term may interleave
            found[label] = sorted(positions)

    def _attribute(self, hit: str) -> HitMeaning:
        """What a hit string stands for: every piece that matches at its start."""
        compiled = self._compiled
        candidates = compiled.by_first_char.get(hit[0], [])
        if is_arabic(hit[0]):
            candidates = candidates + compiled.by_first_char.get(ARABIC_BUCKET, [])
        labels: list[Label] = []
        places: list[PlaceName] = []
        prefixes: list[TemplatePart] = []
        suffixes: list[TemplatePart] = []
        starts = compiled.literal_starts
        for index in candidates:
            # A piece whose first letters are not where the hit would hold them cannot match
            # it: its regex is then neither compiled nor run. A hit has hundreds of candidates
            # (all the pieces of its first letter, and every Arabic one for an Arabic hit), and
            # compiling their regexes made a worker's first pages 0.1 s slower.
            literal, end = starts[index]
            if hit.find(literal, 0, end) < 0:
                continue
            match = compiled.regex(index).match(hit)
            if match is None:
                continue
            uses, length = compiled.uses[index], match.end()
            labels.extend((owner, term_index, None) for owner, term_index in uses.terms)
            places.extend((g, length, name, alone) for g, name, alone in uses.places)
            prefixes.extend((template, length) for template in uses.prefixes)
            suffixes.extend((template, length) for template in uses.suffixes)
        places.sort(key=lambda name: -name[1])
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        extras = (tuple(places), tuple(prefixes), tuple(suffixes))
        result: HitMeaning = (tuple(labels), extras if any(extras) else None)
        self._cache[hit] = result
        return result


def _position(item: tuple[int, PlaceParts]) -> int:
    return item[0]


def _next_word(folded: str, position: int) -> int:
    """Where the next word starts if only spaces follow `position`, else -1."""
    end = position
    while end < len(folded) and folded[end] == " ":
        end += 1
    return end if end > position else -1


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
