"""The rule engine: matching semantics on small rules, then the default rules on labeled cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.filter import MatchResult, RuleEngine, default_rules_path

CASES_FILE = Path(__file__).parent / "data" / "filter_dev.jsonl"
CASES = [json.loads(line) for line in CASES_FILE.read_text(encoding="utf-8").splitlines()]
HELDOUT_FILE = CASES_FILE.with_name("filter_heldout.jsonl")


def make(groups: str, extra: str = "", settings: str = "") -> RuleEngine:
    return RuleEngine.from_toml_text(f"[settings]\n{settings}\n{extra}\n{groups}", "test.toml")


def one_group(*terms: str, settings: str = "threshold = 1") -> RuleEngine:
    quoted = ", ".join(json.dumps(t, ensure_ascii=False) for t in terms)
    return make(f'[[groups]]\nname = "g"\nterms = [{quoted}]\n', settings=settings)


def found(engine: RuleEngine, text: str, title: str = "") -> list[str]:
    return engine.evaluate(title, text).groups.get("g", [])


# -- words and phrases ------------------------------------------------------------------------


def test_case_and_accent_insensitive_on_word_boundaries():
    engine = one_group("coopération", "Conseil Régional")
    assert found(engine, "La COOPERATION avec le conseil regional.") == [
        "coopération",
        "Conseil Régional",
    ]
    assert found(engine, "Une intercoopération, des coopérations, un conseil régionaliste.") == []


def test_french_elision_with_both_apostrophes():
    engine = one_group("État de Virginie", "Île-de-France", "qu'il")
    assert found(engine, "l’État de Virginie") == ["État de Virginie"]
    assert found(engine, "l'État de Virginie") == ["État de Virginie"]
    assert found(engine, "la région d’Île-de-France") == ["Île-de-France"]
    assert found(engine, "parce qu’il pleut") == ["qu'il"]


def test_french_de_du_des_and_articles_are_interchangeable():
    engine = one_group("conseil de la région", "État de l'Ohio")
    assert found(engine, "le conseil de région") == ["conseil de la région"]
    assert found(engine, "le conseil des régions") == []  # "régions" is another word
    assert found(engine, "l'État d'Ohio") == ["État de l'Ohio"]
    assert found(engine, "l'État de l'Ohio") == ["État de l'Ohio"]


def test_prefix_wildcard():
    engine = one_group("coopér*")
    assert found(engine, "Ils coopèrent.") == ["coopér*"]
    assert found(engine, "une coopérative") == ["coopér*"]
    assert found(engine, "la coop") == []


def test_hyphen_space_and_quote_variants():
    engine = one_group("Casablanca-Settat", "Jour du Maroc")
    for text in ("Casablanca Settat", "casablanca - settat", "Casablanca–Settat"):
        assert found(engine, text) == ["Casablanca-Settat"]
    assert found(engine, "le « Jour du Maroc »") == ["Jour du Maroc"]
    assert found(engine, "le “Jour du Maroc”") == ["Jour du Maroc"]
    assert found(engine, "Casablanca. Settat") == []  # punctuation still separates phrases


def test_phrases_do_not_cross_the_title_or_a_line_break():
    engine = one_group("feuille de route")
    assert found(engine, "de route", title="La feuille") == []
    assert found(engine, "la feuille\nde route") == []


# The longest prefixes are four letters: و or ف, then بال or كال.
@pytest.mark.parametrize(
    "text",
    ["الجهة", "والجهة", "للجهة", "بالجهة", "وللجهة", "وبالجهة", "فكالجهة", "جهة", "الجِهَة", "جهه"],
)
def test_arabic_prefixes_article_and_forms(text):
    assert found(one_group("جهة"), f"قالت {text} اليوم") == ["جهة"]


def test_arabic_term_written_with_article_and_alef_forms():
    engine = one_group("الدار البيضاء", "إقليم")
    assert found(engine, "بالدار البيضاء") == ["الدار البيضاء"]
    assert found(engine, "للدار البيضاء") == ["الدار البيضاء"]
    assert found(engine, "الإقليم") == ["إقليم"]
    assert found(engine, "والاقليم") == ["إقليم"]
    assert found(engine, "جهات") == []


def test_overlapping_terms_are_all_found():
    engine = one_group("conseil de la région", "région de Bretagne", "Bretagne")
    assert found(engine, "Le conseil de la région de Bretagne") == [
        "conseil de la région",
        "région de Bretagne",
        "Bretagne",
    ]


def test_terms_that_fold_alike_count_once_under_their_first_spelling():
    engine = one_group("coopération", "cooperation", settings="threshold = 1")
    result = engine.evaluate("", "cooperation et coopération")
    assert result.groups == {"g": ["coopération"]}
    assert result.score == 1


# -- scoring ----------------------------------------------------------------------------------

WEIGHTED = """
[[groups]]
name = "actor"
weight = 3
max_terms = 2
terms = ["région", "province", "commune"]

[[groups]]
name = "deal"
terms = ["jumelage"]

[[exclusions]]
name = "sport"
penalty = 4
where = "title"
terms = ["match", "football"]
"""


def test_weights_caps_title_and_lead():
    engine = make(WEIGHTED, settings="threshold = 5\ntitle_weight = 2\nlead_chars = 20")
    body = "x " * 30
    result = engine.evaluate("", f"{body} région, province et commune ; jumelage")
    assert result.group_scores == {"actor": 6.0, "deal": 1.0}  # at most 2 actor terms
    assert result.score == 7
    assert result.matched
    in_title = engine.evaluate("Jumelage", f"{body} région")
    assert in_title.group_scores == {"actor": 3.0, "deal": 2.0}
    lead = make(WEIGHTED, settings="lead_chars = 20\nlead_weight = 1.5")
    assert lead.evaluate("", f"région {body}").group_scores == {"actor": 4.5}


def test_exclusions_lower_the_score_and_are_listed():
    engine = make(WEIGHTED, settings="threshold = 5")
    result = engine.evaluate("Match de football", "région et province")
    assert result.excluded == ["match", "football"]
    assert result.penalties == {"sport": 4}
    assert result.score == 2
    assert not result.matched
    body_only = engine.evaluate("Titre", "région et province, un match")
    assert body_only.excluded == []  # where = "title"
    assert body_only.matched


TIERED = """
[[groups]]
name = "actor"
terms = ["région"]

[[groups]]
name = "partner"
terms = ["Occitanie", "Bretagne"]

[[groups]]
name = "deal"
terms = ["jumelage", "accord"]

[[groups]]
name = "trade"
terms = ["export", "investisseurs"]

[[tiers]]
name = "core"
require = ["actor", "partner | deal"]
near = ["actor", "partner"]
within_words = 3

[[tiers]]
name = "related"
require = ["actor | partner"]
forbid = ["deal"]
min_terms = { trade = 2 }
"""


def test_tiers_in_order_with_reasons():
    engine = make(TIERED, settings="threshold = 1")
    core = engine.evaluate("", "La région et l'Occitanie signent un accord.")
    assert (core.matched, core.tier) == (True, "core")
    assert core.reason == "core: all conditions met, score 3"
    far = engine.evaluate("", "La région, après bien des années, et l'Occitanie : un accord.")
    assert not far.matched
    assert "core: actor and partner are never within 3 words" in far.reason
    assert "related: deal is present" in far.reason
    related = engine.evaluate("", "La région reçoit des investisseurs pour l'export.")
    assert (related.matched, related.tier) == (True, "related")
    short = engine.evaluate("", "La région reçoit des investisseurs.")
    assert not short.matched
    assert "related: needs 2 terms of trade, found 1" in short.reason


def test_tier_min_score():
    engine = make(TIERED.replace("within_words = 3", "within_words = 3\nmin_score = 9"))
    result = engine.evaluate("", "La région et l'Occitanie signent un accord.")
    assert not result.matched
    assert "core: score 3 < 9" in result.reason


# -- gazetteers -------------------------------------------------------------------------------

PLACES = """
[[gazetteers]]
name = "states"
file = "gazetteers/us_states.txt"
reports = "partners"

[[gazetteers]]
name = "regions"
file = "gazetteers/ma_regions.txt"
reports = "regions"

[[groups]]
name = "g"
terms = ["<states>", "État de <states>", "<states> delegation", "région de <regions>"]
"""


def test_gazetteer_terms_report_places():
    engine = make(PLACES, settings="threshold = 1")
    result = engine.evaluate("", "L'État du Mississippi et la région de Casablanca-Settat.")
    assert result.groups == {"g": ["<states>", "État de <states>", "région de <regions>"]}
    assert result.partners == ["Mississippi"]
    assert result.regions == ["Casablanca-Settat"]
    english = engine.evaluate("", "A Virginia delegation met officials.")
    assert english.groups == {"g": ["<states>", "<states> delegation"]}
    assert english.partners == ["Virginia"]


def test_ambiguous_names_count_only_inside_longer_terms():
    engine = make(PLACES, settings="threshold = 1")
    assert engine.evaluate("", "Talks in Washington on trade.").groups == {}
    assert engine.evaluate("", "L'État de Washington.").partners == ["Washington"]
    oriental = engine.evaluate("", "la région de l'Oriental, tapis oriental")
    assert oriental.groups == {"g": ["région de <regions>"]}
    assert oriental.regions == ["Oriental"]


def test_a_template_whose_text_after_the_place_starts_with_de():
    # "de" may be spelt d', du, des: its pieces start with no letter of their own.
    engine = make(PLACES.replace('"<states> delegation"', '"<states> de coopération"'))
    result = engine.evaluate("", "Le Maryland de coopération, la Virginie d'échanges.")
    assert result.groups == {"g": ["<states>", "<states> de coopération"]}


def test_the_longest_place_name_wins():
    result = make(PLACES, settings="threshold = 1").evaluate("", "West Virginia coal")
    assert result.partners == ["West Virginia"]


# -- API --------------------------------------------------------------------------------------


def test_default_engine_api():
    engine = RuleEngine.from_path(default_rules_path())
    result = engine.evaluate(
        "Casablanca-Settat et Île-de-France signent une feuille de route",
        "La région Casablanca-Settat et la région Île-de-France ont signé une nouvelle feuille "
        "de route de coopération pour 2025-2027.",
        "fr",
    )
    assert isinstance(result, MatchResult)
    assert (result.matched, result.tier) == (True, "core")
    assert result.regions == ["Casablanca-Settat"]
    assert result.partners == ["Île-de-France"]
    assert "région <foreign_regions>" in result.groups["foreign_partner"]
    explanation = result.to_dict()
    assert json.loads(json.dumps(explanation)) == explanation
    assert {"score", "threshold", "groups", "excluded", "tier", "regions", "partners"} <= set(
        explanation
    )


def test_rules_digest_follows_the_rules():
    first = RuleEngine.from_toml_text(WEIGHTED, "a.toml")
    again = RuleEngine.from_toml_text("# a comment\n" + WEIGHTED, "b.toml")
    changed = RuleEngine.from_toml_text(WEIGHTED.replace("weight = 3", "weight = 4"), "c.toml")
    assert len(first.rules_digest) == 12
    assert first.rules_digest == again.rules_digest != changed.rules_digest


def test_empty_article():
    result = RuleEngine.from_path(default_rules_path()).evaluate("", "")
    assert (result.matched, result.score, result.groups) == (False, 0, {})


def test_repeated_evaluations_agree():
    engine = RuleEngine.from_path(default_rules_path())
    case = next(c for c in CASES if c["label"])
    first = engine.evaluate(case["title"], case["text"])
    assert engine.evaluate(case["title"], case["text"]) == first


def test_pieces_are_tried_only_where_their_first_letters_are_and_decide_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A hit is matched only against the pieces whose first letters it holds where the piece
    would (`CompiledRules.literal_starts`); on the labeled cases and the site's articles, in
    French, English and Arabic, every decision and all its evidence are those of trying them
    all, with far fewer piece regexes compiled."""
    cases = [json.loads(line) for line in HELDOUT_FILE.read_text(encoding="utf-8").splitlines()]
    articles = [(c["title"], c["text"]) for c in [*CASES, *cases]]
    articles += [(a.title, a.text) for a in SITE]
    assert {c["lang"] for c in cases} >= {"fr", "en", "ar"}
    checked, everything = (RuleEngine.from_path(default_rules_path()) for _ in range(2))
    pieces = everything._compiled.pieces
    monkeypatch.setattr(everything._compiled, "literal_starts", [("", 0)] * len(pieces))
    results = [checked.evaluate(title, text) for title, text in articles]
    assert [everything.evaluate(title, text) for title, text in articles] == results
    assert any(result.matched for result in results)
    compiled = [
        sum(regex is not None for regex in e._compiled._piece_regex) for e in (checked, everything)
    ]
    assert compiled[0] < compiled[1] * 3 / 4  # 1,379 of 2,274 here
    # `trace` (`rules explain`) reads the hits again: the same evidence too.
    traces = [checked.trace(title, text) for title, text in articles]
    assert [everything.trace(title, text) for title, text in articles] == traces


# -- the default rules on labeled cases ------------------------------------------------------


@pytest.fixture(scope="module")
def default_engine() -> RuleEngine:
    return RuleEngine.from_path(default_rules_path())


def _site_articles() -> list:
    try:
        from tests.site.manifest import load_manifest
    except ImportError:  # the local news site is not in this checkout
        return []
    return [a for a in load_manifest().articles if a.expect != "skip" and a.paragraphs]


SITE = _site_articles()


@pytest.mark.skipif(not SITE, reason="no fixture articles in tests/site/fixtures")
@pytest.mark.parametrize("article", SITE, ids=[a.id for a in SITE])
def test_default_rules_on_site_fixtures(default_engine, article):
    result = default_engine.evaluate(article.title, article.text, article.lang)
    assert result.matched == (article.expect == "match"), result.reason


def test_each_gazetteer_reference_reports_its_own_term(tmp_path):
    """Regression: "<us_states>" and "<foreign_regions>" fold alike but are different terms."""
    (tmp_path / "states.txt").write_text("Virginia\n", encoding="utf-8")
    (tmp_path / "regions.txt").write_text("Andalusia | Andalousie\n", encoding="utf-8")
    engine = RuleEngine.from_toml_text(
        """
[settings]
threshold = 1

[[gazetteers]]
name = "states"
file = "states.txt"

[[gazetteers]]
name = "regions"
file = "regions.txt"

[[groups]]
name = "place"
terms = ["<states>", "<regions>"]
""",
        base_dir=tmp_path,
    )
    result = engine.evaluate("", "La région accueille une délégation d'Andalousie.")
    assert result.groups == {"place": ["<regions>"]}


def test_to_dict_has_every_field():
    import dataclasses

    from crawler.filter import default_rules_path

    result = RuleEngine.from_path(default_rules_path()).evaluate("Jumelage", "Tanger et Cadix.")
    assert result.to_dict() == dataclasses.asdict(result)
