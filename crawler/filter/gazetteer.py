"""Place lists (gazetteers) used by rule terms such as "État de <us_states>".

A gazetteer is a UTF-8 text file, one place per line: the name to report, then other spellings
after "|". A spelling starting with "!" is too ambiguous to count alone ("Washington" is also the
federal capital) and is only used inside a longer term. Matching is left to the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Literal

from crawler.errors import ConfigError
from crawler.filter.normalize import normalize_text

Reports = Literal["regions", "partners"]
REPORTS: tuple[Reports, ...] = ("regions", "partners")


@dataclass(frozen=True, slots=True)
class Spelling:
    text: str
    alone: bool  # False for "!Washington": only inside a longer term


@dataclass(frozen=True, slots=True)
class Place:
    name: str  # the name reported in MatchResult.regions / partners
    spellings: tuple[Spelling, ...]


@dataclass(frozen=True, slots=True)
class Gazetteer:
    name: str
    places: tuple[Place, ...]
    reports: Reports | None = None
    file: str = ""  # as written in the rules, for messages


def builtin_dir() -> Path:
    """The packaged `seeds/` folder, where the default rules and gazetteers live."""
    return Path(str(files("seeds")))


def resolve_gazetteer_file(file: str, base_dir: Path | None) -> Path | None:
    """The gazetteer file: relative to the rules file first, then the built-in seeds folder.

    The fallback lets a user copy `rules.toml` elsewhere and keep the packaged place lists.
    """
    path = Path(file)
    if path.is_absolute():
        return path if path.is_file() else None
    for folder in (base_dir, builtin_dir()):
        if folder is not None and (folder / path).is_file():
            return folder / path
    return None


def parse_gazetteer(text: str, name: str, source: str) -> tuple[Place, ...]:
    """Parse a gazetteer file's text; `source` names the file in error messages."""
    places: list[Place] = []
    seen: dict[str, tuple[int, str]] = {}  # folded spelling -> (line, place name)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        spellings: list[Spelling] = []
        for field in line.split("|"):
            spelling = field.strip()
            alone = not spelling.startswith("!")
            spelling = spelling.lstrip("!").strip()
            if not spelling:
                raise ConfigError(
                    f"{source}: line {number}: empty name between '|'; "
                    "write one place per line as 'Name | other spelling | ...'"
                )
            if any(char in spelling for char in "*<>"):
                raise ConfigError(
                    f"{source}: line {number}: {spelling!r}: place names may not contain "
                    "'*', '<' or '>'"
                )
            key = " ".join(normalize_text(spelling).split())
            if key in seen and seen[key][0] != number:
                raise ConfigError(
                    f"{source}: line {number}: {spelling!r} is already listed on line "
                    f"{seen[key][0]} ({seen[key][1]}); a spelling may name only one place"
                )
            seen[key] = (number, spellings[0].text if spellings else spelling)
            spellings.append(Spelling(spelling, alone))
        places.append(Place(spellings[0].text, tuple(spellings)))
    if not places:
        raise ConfigError(f"{source}: gazetteer {name!r} lists no place")
    return tuple(places)


def load_gazetteer(
    name: str, file: str, base_dir: Path | None, reports: Reports | None, where: str
) -> Gazetteer:
    """Read one gazetteer; `where` locates its declaration in the rules for error messages."""
    path = resolve_gazetteer_file(file, base_dir)
    if path is None:
        looked = [str(base_dir)] if base_dir is not None else []
        looked.append(str(builtin_dir()))
        raise ConfigError(
            f"{where}: file {file!r} not found (looked in {' and '.join(looked)}); "
            "give a path relative to the rules file"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark is allowed
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read {str(path)!r}: {exc}") from exc
    return Gazetteer(name, parse_gazetteer(text, name, str(path)), reports, file)
