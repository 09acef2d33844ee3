"""Loading rules files: the default rules, and one clear error per mistake (file, block, key)."""

from __future__ import annotations

import re

import pytest

from crawler.errors import ConfigError
from crawler.filter import RuleEngine, default_rules_path
from crawler.filter.gazetteer import parse_gazetteer
from crawler.filter.rules import load_rules_file, parse_rules

MINIMAL = """
[[groups]]
name = "actor"
terms = ["conseil régional"]
"""


def test_default_rules_load():
    path = default_rules_path()
    assert path.name == "rules.toml"
    assert path.is_file()
    rules = load_rules_file(path)
    assert {"moroccan_region", "foreign_partner", "agreement"} <= {g.name for g in rules.groups}
    names = [t.name for t in rules.tiers]
    assert names == ["core"] * names.count("core") + ["related"] * names.count("related")
    assert names.count("core") >= 3
    assert names.count("related") >= 1
    regions = next(g for g in rules.gazetteers if g.name == "ma_regions")
    assert len(regions.places) == 12
    assert regions.reports == "regions"


def test_minimal_rules_use_defaults():
    rules = parse_rules(MINIMAL, "rules.toml")
    assert rules.settings.threshold == 10
    assert rules.settings.title_weight == 2
    group = rules.groups[0]
    assert (group.weight, group.max_terms, group.where) == (1.0, 3, "anywhere")
    assert rules.tiers == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            MINIMAL + '[[groups]]\nname = "actor2"\nterms = ["x"]\nwieght = 2\n',
            'rules.toml: [[groups]] #2 "actor2": unknown key "wieght". Did you mean "weight"?',
        ),
        ("[setings]\n" + MINIMAL, 'rules.toml: unknown key "setings". Did you mean "settings"?'),
        (
            '[settings]\nthreshold = "high"\n' + MINIMAL,
            "rules.toml: [settings]: threshold: expected a number, got 'high'",
        ),
        ("[settings]\nthreshold = 1\n", "rules.toml: no [[groups]]"),
        ('[[groups]]\nname = "a"\n', "rules.toml: [[groups]] #1 \"a\": missing key 'terms'"),
        ('[[groups]]\nname = "a"\nterms = []\n', "terms: the list is empty"),
        ('[[groups]]\nname = "a b"\nterms = ["x"]\n', "name: 'a b' must start with a letter"),
        (MINIMAL + MINIMAL, 'rules.toml: [[groups]]: the name "actor" is used twice'),
        ('[[groups]]\nname = "a"\nterms = ["x", "x"]\n', "terms: 'x' is listed twice"),
        ('[[groups]]\nname = "a"\nterms = ["co*"]\n', "term 'co*': 'co*': a wildcard needs"),
        ('[[groups]]\nname = "a"\nterms = ["x"]\nwhere = "body"\n', "where: 'body' is not one of"),
        (
            '[[groups]]\nname = "a"\nterms = ["État de <us_state>"]\n',
            'gazetteer: unknown name "us_state"',
        ),
        (
            MINIMAL + '[[tiers]]\nname = "core"\nrequire = ["actor | foriegn"]\n',
            'rules.toml: [[tiers]] #1 "core": require: group: unknown name "foriegn"',
        ),
        (
            MINIMAL + '[[tiers]]\nname = "core"\nnear = ["actor"]\n',
            "near: expected two entries",
        ),
        (
            MINIMAL + '[[tiers]]\nname = "core"\nwithin_words = 3\n',
            "within_words is only meaningful with near",
        ),
        (
            MINIMAL + '[[tiers]]\nname = "core"\nmin_terms = { actor = 0 }\n',
            "min_terms: actor: expected a whole number ≥ 1",
        ),
        (MINIMAL + '[[exclusions]]\nname = "x"\nterms = ["y"]\n', "missing key 'penalty'"),
        ("groups = 3\n", "rules.toml: groups: write each entry as a [[groups]] block"),
        ("[[groups]\n", "rules.toml: not valid TOML"),
    ],
)
def test_mistakes_are_named(text, message):
    with pytest.raises(ConfigError) as caught:
        parse_rules(text, "rules.toml")
    assert message in str(caught.value)


def test_gazetteer_files_are_found_next_to_the_rules_then_in_seeds(tmp_path):
    (tmp_path / "places").mkdir()
    (tmp_path / "places" / "mine.txt").write_text("Agadir | أكادير\n", encoding="utf-8")
    text = """
[[gazetteers]]
name = "mine"
file = "places/mine.txt"

[[gazetteers]]
name = "us_states"
file = "gazetteers/us_states.txt"

[[groups]]
name = "a"
terms = ["ville de <mine>", "État de <us_states>"]
"""
    rules = parse_rules(text, "custom.toml", tmp_path)
    assert [len(g.places) for g in rules.gazetteers] == [1, 50]


def test_missing_gazetteer_file_is_named(tmp_path):
    text = '[[gazetteers]]\nname = "mine"\nfile = "nowhere.txt"\n' + MINIMAL
    with pytest.raises(ConfigError, match=r'\[\[gazetteers\]\] #1 "mine": file \'nowhere.txt\''):
        parse_rules(text, "custom.toml", tmp_path)


def test_from_path_names_the_file(tmp_path):
    path = tmp_path / "my-rules.toml"
    path.write_text("colour = 1\n" + MINIMAL, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"my-rules\.toml: unknown key \"colour\""):
        RuleEngine.from_path(path)
    with pytest.raises(ConfigError, match="cannot read"):
        RuleEngine.from_path(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Rabat | | Salé\n", "line 1: empty name"),
        ("Rabat\nRabat City | rabat\n", "line 2: 'rabat' is already listed on line 1 (Rabat)"),
        ("Ra*bat\n", "may not contain"),
        ("# only a comment\n", "lists no place"),
    ],
)
def test_gazetteer_mistakes(text, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_gazetteer(text, "cities", "cities.txt")


def test_gazetteer_format():
    places = parse_gazetteer(
        "# comment\n\n!Washington | Washington State | !واشنطن\nTexas\n", "us", "us.txt"
    )
    assert [p.name for p in places] == ["Washington", "Texas"]
    assert [(s.text, s.alone) for s in places[0].spellings] == [
        ("Washington", False),
        ("Washington State", True),
        ("واشنطن", False),
    ]
