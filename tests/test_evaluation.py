"""crawler.evaluation: labeled lines, and figures checked against counts done by hand."""

from __future__ import annotations

import json

import pytest

from crawler.evaluation import (
    BadArticleLine,
    Counts,
    evaluate_lines,
    parse_labeled_line,
)
from crawler.filter import RuleEngine

RULES = """
[settings]
threshold = 4

[[groups]]
name = "place"
weight = 2
terms = ["Agadir", "Grenade", "أكادير"]

[[groups]]
name = "deal"
weight = 2
terms = ["jumelage", "convention", "توأمة"]

[[groups]]
name = "trade"
weight = 2
terms = ["export*"]

[[tiers]]
name = "core"
require = ["place", "deal"]

[[tiers]]
name = "related"
require = ["place", "trade"]
"""


def line(identifier: str, title: str, label: bool, **extra: object) -> str:
    return json.dumps({"id": identifier, "title": title, "text": "", "label": label, **extra})


# Predictions under RULES, worked out by hand:
#   fr1 positive core, matched core           -> TP
#   fr2 positive related, matched core        -> TP, wrong tier
#   fr3 positive core, no match (no deal)     -> FN
#   fr4 negative, matched                     -> FP (kind "company")
#   fr5 negative, no match                    -> TN (kind "company")
#   en1 positive related, matched related     -> TP
#   en2 negative, no match                    -> TN (kind "sport")
#   ar1 positive core, matched core           -> TP (an extra key "note" is ignored)
LINES = [
    line("fr1", "Agadir et Grenade: jumelage", True, tier="core", lang="fr"),
    line("fr2", "Agadir signe une convention", True, tier="related", lang="fr"),
    line("fr3", "Agadir et Grenade", True, tier="core", lang="fr"),
    line("fr4", "Convention d'une société à Agadir", False, lang="fr", kind="company"),
    line("fr5", "Une société signe une convention", False, lang="fr", kind="company"),
    line("en1", "Agadir exporters travel to Hamburg", True, tier="related", lang="en"),
    line("en2", "Football: Agadir wins", False, lang="en", kind="sport"),
    line("ar1", "توأمة بين أكادير وغرناطة", True, tier="core", lang="ar", note="seed"),
]


@pytest.fixture(scope="module")
def report():
    engine = RuleEngine.from_toml_text(RULES, "test.toml")
    found, bad = evaluate_lines(engine, ["", *LINES], "labeled.jsonl")
    assert bad == []
    return found


def test_counts_and_ratios_by_hand():
    counts = Counts(tp=4, fp=1, fn=1, tn=2)
    assert counts.total == 8
    assert counts.precision == pytest.approx(0.8)
    assert counts.recall == pytest.approx(0.8)
    assert counts.f1 == pytest.approx(0.8)
    uneven = Counts(tp=1, fp=3, fn=0, tn=0)
    assert uneven.precision == pytest.approx(0.25)
    assert uneven.recall == pytest.approx(1.0)
    assert uneven.f1 == pytest.approx(2 * 0.25 * 1.0 / 1.25)


def test_ratios_without_a_denominator_are_none():
    nothing = Counts(tn=5)
    assert (nothing.precision, nothing.recall, nothing.f1) == (None, None, None)
    assert Counts(fn=2).precision is None
    assert Counts(fn=2).recall == 0.0
    assert Counts(fn=2).f1 == 0.0


def test_overall_and_per_language(report):
    assert report.counts() == Counts(tp=4, fp=1, fn=1, tn=2)
    assert report.languages == ["ar", "en", "fr"]
    assert report.counts("fr") == Counts(tp=2, fp=1, fn=1, tn=1)
    assert report.counts("en") == Counts(tp=1, fp=0, fn=0, tn=1)
    assert report.counts("ar") == Counts(tp=1)
    figures = report.figures("fr")
    assert (figures["precision"], figures["recall"], figures["f1"]) == (0.6667, 0.6667, 0.6667)


def test_recall_per_labeled_tier(report):
    assert report.tiers == ["core", "related"]
    assert report.tier_recall("core") == (2, 3)  # fr1, ar1 found; fr3 missed
    assert report.tier_recall("related") == (2, 2)  # found, even with the wrong tier
    assert report.tier_recall("core", "ar") == (1, 1)
    assert report.figures()["tiers"]["core"] == {"found": 2, "labeled": 3, "recall": 0.6667}


def test_false_positives_per_kind(report):
    assert report.kinds() == {"company": (1, 2), "sport": (0, 1)}


def test_misclassified_missed_first_and_wrong_tiers(report):
    assert [o.article.id for o in report.misclassified] == ["fr3", "fr4"]
    assert [o.article.id for o in report.wrong_tiers] == ["fr2"]
    missed = report.misclassified[0].to_dict()
    assert missed["label"] is True
    assert missed["match"] is False
    assert missed["matched"] == {"place": ["Agadir", "Grenade"]}
    assert missed["threshold"] == 4.0
    assert "core: no term of deal" in missed["reason"]


def test_to_dict_is_json(report):
    document = json.loads(json.dumps(report.to_dict()))
    assert document["file"] == "labeled.jsonl"
    assert document["overall"]["tp"] == 4
    assert set(document["languages"]) == {"ar", "en", "fr"}
    assert document["kinds"]["company"] == {"false_positives": 1, "negatives": 2}
    assert [item["id"] for item in document["wrong_tier"]] == ["fr2"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json", "not JSON"),
        ("[1]", "not a JSON object"),
        ('{"title": "a"}', '"label" must be true or false'),
        ('{"title": "a", "label": "yes"}', '"label" must be true or false'),
        ('{"title": 1, "label": true}', '"title" and "text" must be strings'),
        ('{"label": true}', 'no "title" nor "text"'),
        ('{"title": "a", "label": true, "tier": 1}', '"tier" must be a string'),
        ('{"id": [1], "title": "a", "label": true}', '"id" must be a string or a number'),
    ],
)
def test_bad_lines_say_what_is_wrong(text, problem):
    with pytest.raises(BadArticleLine, match=problem):
        parse_labeled_line(text, 1)


def test_bad_lines_are_reported_and_the_rest_counted():
    engine = RuleEngine.from_toml_text(RULES, "test.toml")
    report, bad = evaluate_lines(engine, [LINES[0], "oops", LINES[1]], "f.jsonl")
    assert bad == [(2, "not JSON (Expecting value: line 1 column 1 (char 0))")]
    assert [o.article.line for o in report.outcomes] == [1, 3]


def test_missing_id_is_the_line_number():
    article = parse_labeled_line('{"title": "a", "label": false}', 7)
    assert (article.id, article.tier, article.lang, article.kind) == ("7", None, None, None)
