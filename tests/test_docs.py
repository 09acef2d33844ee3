"""Drift: every command, option and config key is documented in the README."""

from __future__ import annotations

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


@pytest.mark.parametrize(("name", "command"), _commands())
def test_command_and_options_are_in_readme(name, command):
    assert f"newswatch {name}" in README, f"Document `newswatch {name}` in README.md (Commands)."
    for param in command.params:
        for option in getattr(param, "opts", []):
            if option.startswith("--") and option != "--help":
                assert option in README, f"Document option {option} of `newswatch {name}`."


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
