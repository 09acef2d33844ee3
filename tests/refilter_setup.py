"""Two small rules files and five stored articles, for the tests of `newswatch refilter`.

Under the "before" rules, `sent`, `pending` and `kept` match and `new` and `other` do not. The
"after" rules add "foire" (so `new` matches, as related), veto football (so `sent` and `pending`
no longer match) and weigh regions more (so `kept` keeps matching with another score).
"""

from __future__ import annotations

from pathlib import Path

from crawler.filter import RuleEngine
from crawler.processing import decide, stored_explanation
from storage.repository import Repository
from tests.dbfixtures import article_record

_RULES = """
[settings]
threshold = 5

[[gazetteers]]
name = "regions"
file = "regions.txt"
reports = "regions"

[[gazetteers]]
name = "partners"
file = "partners.txt"
reports = "partners"

[[groups]]
name = "region"
weight = {region_weight}
terms = ["<regions>"]

[[groups]]
name = "partner"
weight = 3
terms = ["<partners>"]

[[groups]]
name = "deal"
weight = 2
terms = [{deal_terms}]

{exclusions}

[[tiers]]
name = "core"
require = ["region", "partner", "deal"]

[[tiers]]
name = "related"
require = ["region", "deal"]
"""

VERSIONS = {
    "before": {"region_weight": 3, "deal_terms": '"jumelage", "convention"', "exclusions": ""},
    "after": {
        "region_weight": 4,
        "deal_terms": '"jumelage", "convention", "foire"',
        "exclusions": '[[exclusions]]\nname = "sport"\npenalty = 50\nterms = ["football"]',
    },
}

ARTICLES = {
    "sent": (
        "Souss-Massa et les Canaries signent une convention",
        (
            "La région Souss-Massa et les Canaries ont signé une convention en marge du match de "
            "football qui opposait les deux sélections régionales samedi soir."
        ),
    ),
    "pending": (
        "L'Oriental et l'Occitanie: un jumelage",
        (
            "Le jumelage entre l'Oriental et l'Occitanie a été célébré avant une rencontre de "
            "football amicale entre les jeunes des deux territoires."
        ),
    ),
    "kept": (
        "Souss-Massa et l'Occitanie renouvellent leur convention",
        (
            "Les présidents de Souss-Massa et de l'Occitanie ont renouvelé mardi la convention qui "
            "lie les deux régions depuis dix ans, autour de l'eau et de la formation."
        ),
    ),
    "new": (
        "Drâa-Tafilalet à la foire de Berlin",
        (
            "Les producteurs de dattes de Drâa-Tafilalet présentent leurs variétés à la foire "
            "agricole de Berlin, avec le soutien du conseil régional."
        ),
    ),
    "other": (
        "Le Raja bat le Wydad",
        "Le derby s'est joué dimanche à Casablanca devant quarante mille spectateurs ravis.",
    ),
}


def write_rules(folder: Path, version: str) -> Path:
    (folder / "regions.txt").write_text("Souss-Massa\nOriental\nDrâa-Tafilalet\n", encoding="utf-8")
    (folder / "partners.txt").write_text(
        "Canary Islands | Canaries | Îles Canaries\nOccitanie\n", encoding="utf-8"
    )
    path = folder / f"rules-{version}.toml"
    path.write_text(_RULES.format(**VERSIONS[version]), encoding="utf-8")
    return path


def write_config(folder: Path, db_url: str, version: str) -> Path:
    rules = write_rules(folder, version)
    config = folder / f"newswatch-{version}.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n\n[filter]\nrules = "{rules.name}"\n\n'
        '[digest]\nto = ["veille@example.org"]\n',
        encoding="utf-8",
    )
    return config


def url(key: str) -> str:
    return f"https://lematin.ma/{key}"


def store_articles_and_send_one(folder: Path, db_url: str) -> tuple[dict[str, int], int]:
    """Where every refilter test starts: the articles saved with the decisions of the "before"
    rules, as a crawl would, and `sent` sent by a digest. Their ids by key, and the digest's id."""
    engine = RuleEngine.from_path(write_rules(folder, "before"))
    with Repository(db_url) as repository:
        ids = {}
        for key, (title, text) in ARTICLES.items():
            result = decide(engine, title, text, "fr")
            record = article_record(
                url(key),
                text,
                title=title,
                score=result.score,
                matched=result.matched,
                explanation=stored_explanation(engine, result),
            )
            ids[key] = repository.save_article(record).article_id
        digest_id = start_digest(repository, [ids["sent"]])
        repository.finish_digest(digest_id, status="sent", attempts=1)
    return ids, digest_id


def start_digest(
    repository: Repository, article_ids: list[int], message_id: str = "<test@example.org>"
) -> int:
    """A delivery of `article_ids` (one story each) recorded as being sent, as `digest` does."""
    return repository.start_digest(
        kind="manual",
        message_id=message_id,
        subject="Veille",
        recipients=["veille@example.org"],
        stories=len(article_ids),
        article_ids=article_ids,
    )
