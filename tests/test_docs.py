"""Drift: every command and config key is documented in the README, each option of a command
in that command's own section."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from crawler.cli import main
from crawler.config import Config

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands() -> list[tuple[str, click.Command]]:
    """Every command, and each subcommand of a group as "group subcommand"."""
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(main.commands.items()):
        found.append((name, command))
        if isinstance(command, click.Group):
            found += [(f"{name} {sub}", c) for sub, c in sorted(command.commands.items())]
    return found


def _readme_sections() -> dict[str, str]:
    """Each command's section of the README, by command name ("rules test"): its heading,
    `### `newswatch NAME ...``, with the synopsis, and everything down to the next heading of
    the same or a higher level (its `####` subsections belong to it). Fenced code blocks are
    skipped when looking for headings: their `#` lines are comments, not headings."""
    headings: list[tuple[int, int, str]] = []  # line index, level, text
    lines = README.splitlines()
    fenced = False
    for index, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
            continue
        heading = re.match(r"(#{1,6}) (.*)", line)
        if heading and not fenced:
            headings.append((index, len(heading.group(1)), heading.group(2)))
    names = [name for name, command in _commands() if not isinstance(command, click.Group)]
    sections: dict[str, str] = {}
    for position, (start, level, text) in enumerate(headings):
        synopsis = re.fullmatch(r"`newswatch ([^`]*)`", text)
        if synopsis is None:
            continue
        words = synopsis.group(1).split()
        # The longest command name the synopsis starts with: "rules test", not "rules".
        name = max(
            (name for name in names if words[: len(name.split())] == name.split()),
            key=lambda name: len(name.split()),
            default=synopsis.group(1),
        )
        end = next((i for i, lvl, _ in headings[position + 1 :] if lvl <= level), len(lines))
        assert name not in sections, f"Two README sections for `newswatch {name}`."
        sections[name] = "\n".join(lines[start:end])
    return sections


SECTIONS = _readme_sections()


def test_every_command_has_its_own_readme_section():
    commands = {name for name, command in _commands() if not isinstance(command, click.Group)}
    assert commands - SECTIONS.keys() == set(), "Add a `### `newswatch NAME ...`` section."
    assert SECTIONS.keys() - commands == set(), "README sections for commands that do not exist."


def _options() -> list[tuple[str, str]]:
    """(command, option) for every option of every command but -h/--help."""
    found = []
    for name, command in _commands():
        for param in command.params:
            if isinstance(param, click.Option):
                found += [(name, option) for option in [*param.opts, *param.secondary_opts]]
    return [(name, option) for name, option in found if option not in ("-h", "--help")]


@pytest.mark.parametrize(
    ("name", "option"),
    _options(),
)
def test_option_is_documented_in_its_commands_section(name, option):
    assert f"newswatch {name}" in README, f"Document `newswatch {name}` in README.md (Commands)."
    section = SECTIONS.get(name, "")
    # The whole option, not a prefix of a longer one: "--limit" is not in "--limit-rate".
    assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", section), (
        f"Document option {option} of `newswatch {name}` in its section of README.md."
    )


def _config_keys() -> list[str]:
    keys = []
    for section, field in Config.model_fields.items():
        if section == "path":
            continue
        model = field.annotation
        inner = getattr(model, "model_fields", None)
        if section == "sources":
            from crawler.config import SourceConfig

            keys += [f"[[sources]] {name}" for name in SourceConfig.model_fields]
        elif inner:
            # A key spelled differently in TOML (`[digest] from`) is documented by its alias.
            keys += [f"[{section}] {info.alias or name}" for name, info in inner.items()]
        else:
            keys.append(section)
    return keys


@pytest.mark.parametrize("key", _config_keys())
def test_config_key_is_in_readme(key):
    assert f"`{key}`" in README, f"Add `{key}` to the configuration table in README.md."
