"""RuleEngine.trace and crawler.filter.explain: every term with its zone and points, the tiers."""

from __future__ import annotations

import json

import pytest

from crawler.filter import RuleEngine, default_rules_path
from crawler.filter.explain import explain

RULES = """
[settings]
threshold = 10
title_weight = 2
lead_chars = 40
lead_weight = 1.5

[[gazetteers]]
name = "partners"
file = "partners.txt"
reports = "partners"

[[groups]]
name = "oriental"
weight = 3
terms = ["Oujda", "région de l'Oriental"]

[[groups]]
name = "partner"
weight = 3
terms = ["région <partners>", "<partners>"]

[[groups]]
name = "deal"
weight = 2
max_terms = 1
terms = ["convention", "signé*"]

[[exclusions]]
name = "sport"
where = "title"
penalty = 10
terms = ["football"]

[[tiers]]
name = "core"
require = ["oriental", "partner"]
near = ["oriental", "partner"]
within_words = 5

[[tiers]]
name = "related"
require = ["oriental", "deal"]
"""

TITLE = "Oujda et l'Occitanie"
# The lead is the first 40 characters of the text: "La région de l'Oriental a signé hier".
TEXT = (
    "La région de l'Oriental a signé hier une convention. "
    "Beaucoup plus loin, après de longues phrases sur tout autre chose, la Région Occitanie."
)


@pytest.fixture
def engine(tmp_path):
    (tmp_path / "partners.txt").write_text("Occitanie | Occitania\n", encoding="utf-8")
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES, encoding="utf-8")
    return RuleEngine.from_path(rules)


def test_trace_gives_the_decision_evaluate_gives(engine):
    trace = engine.trace(TITLE, TEXT)
    assert trace.result == engine.evaluate(TITLE, TEXT)


def test_terms_zones_points_and_max_terms(engine):
    explanation = explain(engine.rules, engine.rules_digest, engine.trace(TITLE, TEXT))
    groups = {group.name: group for group in explanation.groups}
    oriental = {term.term: term for term in groups["oriental"].terms}
    assert oriental["Oujda"].zones == ("title",)
    assert oriental["Oujda"].points == 6.0  # weight 3 × title 2
    assert oriental["région de l'Oriental"].zones == ("lead",)
    assert oriental["région de l'Oriental"].points == 4.5  # 3 × lead 1.5
    assert oriental["région de l'Oriental"].text == "region de l oriental"
    assert groups["oriental"].score == 10.5
    partner = groups["partner"].terms
    assert [(t.term, t.place, t.zones) for t in partner] == [
        ("<partners>", "Occitanie", ("title", "body")),
        ("région <partners>", "Occitanie", ("body",)),
    ]
    assert partner[0].count == 2
    assert partner[0].points == 6.0  # the best zone counts: the title
    assert partner[1].points == 3.0
    assert partner[1].text == "region occitanie"
    # deal counts one term only (max_terms = 1): the two are worth the same, the first counts.
    deal = groups["deal"].terms
    assert [(t.term, t.text, t.counted, t.points) for t in deal] == [
        ("signé*", "signe", True, 3.0),
        ("convention", "convention", False, 0.0),
    ]
    for group in explanation.groups:
        assert sum(term.points for term in group.terms) == pytest.approx(group.score)


def test_exclusions_and_score(engine):
    explanation = explain(
        engine.rules, engine.rules_digest, engine.trace("Football à Oujda", "Rien d'autre.")
    )
    (sport,) = explanation.exclusions
    assert sport.penalty == 10
    assert [(t.term, t.zones) for t in sport.terms] == [("football", ("title",))]
    assert explanation.result.score == 6.0 - 10
    assert explanation.result.penalties == {"sport": 10}
    quiet = explain(engine.rules, engine.rules_digest, engine.trace(TITLE, TEXT))
    assert quiet.exclusions[0].terms == ()


def test_every_tier_condition_is_checked(engine):
    explanation = explain(engine.rules, engine.rules_digest, engine.trace(TITLE, TEXT))
    core, related = explanation.tiers
    # In the title, Oujda and Occitanie are 2 words apart: the proximity condition holds.
    assert core.conditions == (
        (True, "a term of oriental (oriental)"),
        (True, "a term of partner (partner)"),
        (True, "oriental and partner within 5 words"),
        (True, "score 22.5 >= 10"),
    )
    assert core.held
    assert related.held
    assert explanation.deciding_tier == 0
    assert explanation.result.tier == "core"
    assert explanation.result.partners == ["Occitanie"]


def test_failing_conditions_are_all_listed(engine):
    text = "La région de l'Oriental investit. " + "mot " * 20 + "Et l'Occitanie aussi."
    explanation = explain(engine.rules, engine.rules_digest, engine.trace("Un titre", text))
    core, related = explanation.tiers
    assert core.conditions[2] == (False, "oriental and partner are never within 5 words")
    assert not core.held
    assert related.conditions == (
        (True, "a term of oriental (oriental)"),
        (False, "no term of deal"),
        (False, "score 7.5 < 10"),
    )
    assert explanation.deciding_tier is None
    assert not explanation.result.matched
    # The reason stored with a decision stops at each tier's first failure, as before.
    assert explanation.result.reason == (
        "core: oriental and partner are never within 5 words; related: no term of deal"
    )


def test_to_dict_is_json(engine):
    document = json.loads(
        json.dumps(explain(engine.rules, engine.rules_digest, engine.trace(TITLE, TEXT)).to_dict())
    )
    assert document["matched"] is True
    assert document["tier"] == "core"
    assert document["zones"] == {"title_weight": 2.0, "lead_chars": 40, "lead_weight": 1.5}
    assert [group["name"] for group in document["groups"]] == ["oriental", "partner", "deal"]
    assert document["tiers"][0]["decided"] is True
    assert document["tiers"][1]["decided"] is False
    assert document["exclusions"][0]["fired"] is False


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("Jumelage entre Tanger et Séville", "Le conseil communal de Tanger a signé un accord."),
        ("Le Raja bat le Wydad", "Le derby s'est joué à Casablanca devant 40 000 spectateurs."),
        ("", "La Région Souss-Massa et les Îles Canaries signent une feuille de route."),
        ("جهة طنجة تطوان الحسيمة", "وقعت جهة طنجة تطوان الحسيمة اتفاقية تعاون مع جهة الأندلس"),
    ],
)
def test_default_rules_trace_agrees_with_evaluate(title, text):
    engine = RuleEngine.from_path(default_rules_path())
    trace = engine.trace(title, text)
    assert trace.result == engine.evaluate(title, text)
    held = [tier.name for tier in trace.tiers if tier.held]
    assert trace.result.tier == (held[0] if held else None)
    explanation = explain(engine.rules, engine.rules_digest, trace)
    for group in explanation.groups:
        assert sum(term.points for term in group.terms) == pytest.approx(group.score)
