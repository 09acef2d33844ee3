"""Loads and validates a rules file (`seeds/rules.toml` or the user's) into frozen rule objects.

Every mistake is a `ConfigError` naming the file, the block and the key, e.g.
'rules.toml: [[groups]] #2 "actor": unknown key "wieght". Did you mean "weight"?'.
The format itself is documented in docs/rules.md; matching is left to `crawler.filter.engine`.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from crawler.errors import ConfigError
from crawler.filter.gazetteer import REPORTS, Gazetteer, Reports, builtin_dir, load_gazetteer
from crawler.filter.normalize import REF, term_atoms

if TYPE_CHECKING:
    from pathlib import Path

Where = Literal["anywhere", "title", "lead", "text"]
WHERE: tuple[Where, ...] = ("anywhere", "title", "lead", "text")
_REFERENCE = re.compile(r"<([^<>]*)>")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_MAX_TERM = 200  # a phrase, not a paragraph (and the regex builder recurses once per letter)


@dataclass(frozen=True, slots=True)
class Settings:
    threshold: float = 10.0
    title_weight: float = 2.0
    lead_chars: int = 0
    lead_weight: float = 1.0
    description: str = ""


@dataclass(frozen=True, slots=True)
class GroupRule:
    """Terms that count together: `weight` points per distinct term found, at most `max_terms`."""

    name: str
    terms: tuple[str, ...]
    weight: float = 1.0
    max_terms: int = 3
    where: Where = "anywhere"
    description: str = ""


@dataclass(frozen=True, slots=True)
class ExclusionRule:
    """Terms that lower the score by `penalty` (once per block) when any of them is found."""

    name: str
    terms: tuple[str, ...]
    penalty: float
    where: Where = "anywhere"
    description: str = ""


@dataclass(frozen=True, slots=True)
class TierRule:
    """Conditions for a decision tier; each `require` entry lists alternative group names."""

    name: str
    require: tuple[tuple[str, ...], ...] = ()
    forbid: tuple[str, ...] = ()
    min_terms: tuple[tuple[str, int], ...] = ()
    near: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    within_words: int = 30
    min_score: float | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class RuleSet:
    source: str
    settings: Settings
    gazetteers: tuple[Gazetteer, ...]
    groups: tuple[GroupRule, ...]
    exclusions: tuple[ExclusionRule, ...]
    tiers: tuple[TierRule, ...]


def load_rules_file(path: Path) -> RuleSet:
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is allowed
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the rules file: {exc}") from exc
    return parse_rules(text, str(path), path.parent)


def parse_rules(text: str, source: str, base_dir: Path | None = None) -> RuleSet:
    """Validate a rules document; gazetteer files are looked up from `base_dir`, then seeds/."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    _check_keys(data, {"settings", "gazetteers", "groups", "exclusions", "tiers"}, source)
    settings = _settings(_table(data, "settings", source), f"{source}: [settings]")
    base = base_dir if base_dir is not None else builtin_dir()
    gazetteers = tuple(
        _gazetteer(block, f"{source}: [[gazetteers]] {_label(number, block)}", base)
        for number, block in _blocks(data, "gazetteers", source)
    )
    _unique([g.name for g in gazetteers], f"{source}: [[gazetteers]]")
    known = {g.name: g for g in gazetteers}
    groups = tuple(
        _group(block, f"{source}: [[groups]] {_label(number, block)}", known)
        for number, block in _blocks(data, "groups", source)
    )
    if not groups:
        raise ConfigError(f"{source}: no [[groups]]: the rules need at least one group of terms")
    _unique([g.name for g in groups], f"{source}: [[groups]]")
    exclusions = tuple(
        _exclusion(block, f"{source}: [[exclusions]] {_label(number, block)}", known)
        for number, block in _blocks(data, "exclusions", source)
    )
    group_names = [g.name for g in groups]
    tiers = tuple(
        _tier(block, f"{source}: [[tiers]] {_label(number, block)}", group_names)
        for number, block in _blocks(data, "tiers", source)
    )
    return RuleSet(source, settings, gazetteers, groups, exclusions, tiers)


def _settings(block: dict[str, Any], where: str) -> Settings:
    keys = {"threshold", "title_weight", "lead_chars", "lead_weight", "description"}
    _check_keys(block, keys, where)
    return Settings(
        threshold=_number(block, "threshold", where, 10.0),
        title_weight=_number(block, "title_weight", where, 2.0, minimum=0),
        lead_chars=int(_number(block, "lead_chars", where, 0, minimum=0, integer=True)),
        lead_weight=_number(block, "lead_weight", where, 1.0, minimum=0),
        description=_string(block, "description", where, ""),
    )


def _gazetteer(block: dict[str, Any], where: str, base_dir: Path) -> Gazetteer:
    _check_keys(block, {"name", "file", "reports", "description"}, where)
    name = _identifier(block, where)
    file = _string(block, "file", where, None)
    reports = block.get("reports")
    if reports is not None and reports not in REPORTS:
        raise ConfigError(f'{where}: reports: {reports!r} is not one of "regions", "partners"')
    _string(block, "description", where, "")
    return load_gazetteer(name, file, base_dir, cast("Reports | None", reports), where)


def _group(block: dict[str, Any], where: str, gazetteers: dict[str, Gazetteer]) -> GroupRule:
    keys = {"name", "terms", "weight", "max_terms", "where", "description"}
    _check_keys(block, keys, where)
    return GroupRule(
        name=_identifier(block, where),
        terms=_terms(block, where, gazetteers),
        weight=_number(block, "weight", where, 1.0),
        max_terms=int(_number(block, "max_terms", where, 3, minimum=1, integer=True)),
        where=_where(block, where),
        description=_string(block, "description", where, ""),
    )


def _exclusion(
    block: dict[str, Any], where: str, gazetteers: dict[str, Gazetteer]
) -> ExclusionRule:
    _check_keys(block, {"name", "terms", "penalty", "where", "description"}, where)
    return ExclusionRule(
        name=_identifier(block, where),
        terms=_terms(block, where, gazetteers),
        penalty=_number(block, "penalty", where, None, minimum=0),
        where=_where(block, where),
        description=_string(block, "description", where, ""),
    )


def _tier(block: dict[str, Any], where: str, groups: list[str]) -> TierRule:
    keys = {"name", "require", "forbid", "min_terms", "near", "within_words", "min_score"}
    _check_keys(block, keys | {"description"}, where)
    require = tuple(
        _alternatives(item, f"{where}: require", groups)
        for item in _string_list(block, "require", where, allow_empty=True)
    )
    forbid = tuple(
        name
        for item in _string_list(block, "forbid", where, allow_empty=True)
        for name in _alternatives(item, f"{where}: forbid", groups)
    )
    min_terms_block = block.get("min_terms", {})
    if not isinstance(min_terms_block, dict):
        raise ConfigError(f"{where}: min_terms: expected a table like {{ group = 2 }}")
    min_terms = []
    for name, count in min_terms_block.items():
        _known(name, groups, f"{where}: min_terms")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ConfigError(f"{where}: min_terms: {name}: expected a whole number ≥ 1")
        min_terms.append((name, count))
    near = None
    if "near" in block:
        sides = _string_list(block, "near", where)
        if len(sides) != 2:
            raise ConfigError(f'{where}: near: expected two entries, like ["actor", "agreement"]')
        near = (
            _alternatives(sides[0], f"{where}: near", groups),
            _alternatives(sides[1], f"{where}: near", groups),
        )
    elif "within_words" in block:
        raise ConfigError(f"{where}: within_words is only meaningful with near = [...]")
    min_score = block.get("min_score")
    return TierRule(
        name=_identifier(block, where),
        require=require,
        forbid=forbid,
        min_terms=tuple(min_terms),
        near=near,
        within_words=int(_number(block, "within_words", where, 30, minimum=1, integer=True)),
        min_score=None if min_score is None else _number(block, "min_score", where, None),
        description=_string(block, "description", where, ""),
    )


def _terms(block: dict[str, Any], where: str, gazetteers: dict[str, Gazetteer]) -> tuple[str, ...]:
    terms = _string_list(block, "terms", where)
    for term in terms:
        if len(term) > _MAX_TERM:
            raise ConfigError(f"{where}: term {term[:30]!r}...: longer than {_MAX_TERM} characters")
        references = _REFERENCE.findall(term)
        if len(references) > 1:
            raise ConfigError(f"{where}: term {term!r}: use at most one <gazetteer> per term")
        try:
            atoms = term_atoms(term)
        except ValueError as exc:
            raise ConfigError(f"{where}: term {term!r}: {exc}") from exc
        for reference in references:
            _known(reference, list(gazetteers), f"{where}: term {term!r}: gazetteer")
            if REF not in atoms:
                raise ConfigError(
                    f"{where}: term {term!r}: write <{reference}> as a word of its own, "
                    "with spaces around it"
                )
            if atoms == (REF,) and not any(
                s.alone for p in gazetteers[reference].places for s in p.spellings
            ):
                raise ConfigError(
                    f"{where}: term {term!r}: every name of {reference!r} is marked '!', "
                    "so none may count alone"
                )
        if not references and ("<" in term or ">" in term):
            raise ConfigError(f"{where}: term {term!r}: '<' and '>' surround a gazetteer name")
    duplicates = sorted({t for t in terms if terms.count(t) > 1})
    if duplicates:
        raise ConfigError(f"{where}: terms: {duplicates[0]!r} is listed twice")
    return tuple(terms)


# -- small validators -------------------------------------------------------------------------


def _blocks(data: dict[str, Any], key: str, source: str) -> list[tuple[int, dict[str, Any]]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{source}: {key}: write each entry as a [[{key}]] block")
    return list(enumerate(value, start=1))


def _table(data: dict[str, Any], key: str, source: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: {key}: expected a [{key}] table")
    return value


def _label(number: int, block: dict[str, Any]) -> str:
    name = block.get("name")
    return f'#{number} "{name}"' if isinstance(name, str) else f"#{number}"


def _check_keys(block: dict[str, Any], allowed: set[str], where: str) -> None:
    for key in block:
        if key not in allowed:
            raise ConfigError(f'{where}: unknown key "{key}".{_did_you_mean(key, allowed)}')


def _did_you_mean(name: str, choices: list[str] | set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(choices), n=1)
    return f' Did you mean "{close[0]}"?' if close else ""


def _known(name: str, choices: list[str], where: str) -> None:
    if name not in choices:
        raise ConfigError(f'{where}: unknown name "{name}".{_did_you_mean(name, choices)}')


def _alternatives(item: str, where: str, groups: list[str]) -> tuple[str, ...]:
    names = tuple(part.strip() for part in item.split("|"))
    for name in names:
        _known(name, groups, f"{where}: group")
    return names


def _identifier(block: dict[str, Any], where: str) -> str:
    name = _string(block, "name", where, None)
    if not _NAME.match(name):
        raise ConfigError(
            f"{where}: name: {name!r} must start with a letter and use only letters, digits and '_'"
        )
    return name


def _unique(names: list[str], where: str) -> None:
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f'{where}: the name "{name}" is used twice')


def _where(block: dict[str, Any], where: str) -> Where:
    value = block.get("where", "anywhere")
    if value not in WHERE:
        choices = ", ".join(f'"{w}"' for w in WHERE)
        raise ConfigError(f"{where}: where: {value!r} is not one of {choices}")
    return cast("Where", value)


def _string(block: dict[str, Any], key: str, where: str, default: str | None) -> str:
    value = block.get(key, default)
    if value is None:
        raise ConfigError(f"{where}: missing key {key!r}")
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key}: expected text in quotes, got {value!r}")
    return value


def _string_list(
    block: dict[str, Any], key: str, where: str, allow_empty: bool = False
) -> list[str]:
    if key not in block:
        if allow_empty:
            return []
        raise ConfigError(f"{where}: missing key {key!r}")
    value = block[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'{where}: {key}: expected a list of texts, like ["a", "b"]')
    if not value and not allow_empty:
        raise ConfigError(f"{where}: {key}: the list is empty")
    for item in value:
        if not item.strip():
            raise ConfigError(f"{where}: {key}: contains an empty text")
    return [item.strip() for item in value]


def _number(
    block: dict[str, Any],
    key: str,
    where: str,
    default: float | None,
    minimum: float | None = None,
    integer: bool = False,
) -> float:
    value = block.get(key, default)
    if value is None:
        raise ConfigError(f"{where}: missing key {key!r}")
    wrong_type = isinstance(value, bool) or not isinstance(value, int | float)
    if wrong_type or (integer and not isinstance(value, int)):
        kind = "a whole number" if integer else "a number"
        raise ConfigError(f"{where}: {key}: expected {kind}, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{where}: {key}: must be at least {minimum:g}, got {value!r}")
    return float(value)
