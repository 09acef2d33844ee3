"""The keyword filter: rules as data (`seeds/rules.toml` or the user's file) and the rule engine.

`RuleEngine.from_path(path).evaluate(title, text)` returns a `MatchResult` that explains itself.
This package imports neither Scrapy nor storage.
"""

from pathlib import Path

from crawler.filter.engine import RuleEngine
from crawler.filter.gazetteer import builtin_dir
from crawler.filter.results import MatchResult


def default_rules_path() -> Path:
    """The packaged default rules, whether newswatch is installed or run from a checkout."""
    return builtin_dir() / "rules.toml"


__all__ = ["MatchResult", "RuleEngine", "default_rules_path"]
