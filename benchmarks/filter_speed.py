"""How many 5 KB articles per second the keyword filter decides, on one core.

Two corpora: the labeled cases of tests/data/filter_dev.jsonl (French, English and Arabic
stories and hard negatives, dense in the rules' vocabulary), each padded to the target size with
ordinary news paragraphs; and articles made of those ordinary paragraphs only, which is what most
of a crawl looks like. Each run also times text folding alone, the floor under any matching, and
prints the engine's cost as a multiple of it.

    python benchmarks/filter_speed.py [--rules PATH] [--size 5000] [--repeats 20]
"""

from __future__ import annotations

import argparse
import json
import time
from itertools import cycle
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.filter import RuleEngine, default_rules_path
from crawler.filter.normalize import normalize_text

if TYPE_CHECKING:
    from collections.abc import Callable

CASES = Path(__file__).resolve().parent.parent / "tests" / "data" / "filter_dev.jsonl"

# Everyday news written for this benchmark, one paragraph per line: most of a crawl looks
# like this, not like the dense stories of the labeled cases.
FILLER = {
    "fr": """
Le Conseil de gouvernement a adopté jeudi un projet de loi relatif au code de la route ainsi que deux décrets sur la gestion des ressources humaines dans l'administration.
Les prix à la consommation ont augmenté de 0,3 % en un mois, tirés par les produits alimentaires frais, selon la dernière note de conjoncture publiée mardi.
La saison agricole s'annonce meilleure que prévu grâce aux pluies de mars, mais les barrages du centre du pays restent remplis à moins de 30 % de leur capacité.
Le club a confirmé la prolongation du contrat de son entraîneur jusqu'en 2027, après une saison marquée par une qualification en coupe continentale.
Les travaux de la nouvelle gare routière devraient s'achever à la fin de l'année, a indiqué le directeur du chantier lors d'une visite de presse.
Une campagne de vaccination contre la rougeole a été lancée dans les écoles primaires, avec l'objectif d'atteindre un taux de couverture de 95 %.
""",
    "en": """
The central bank kept its key rate unchanged at its quarterly meeting, citing easing inflation and uncertain rainfall for the coming agricultural season.
Tourist arrivals rose 14% in the first half of the year, with record numbers of visitors from European markets and a strong recovery of cruise stopovers.
The national team announced its squad for next month's qualifiers, with three new players called up from European clubs.
Authorities opened a new desalination plant that will supply drinking water to half a million residents along the Atlantic coast.
""",
    "ar": """
صادق مجلس الحكومة خلال اجتماعه الأسبوعي على مشروع قانون يتعلق بتنظيم مهنة العدول وعلى مشروعي مرسومين يتعلقان بتدبير الموارد البشرية بالإدارات العمومية.
سجلت أسعار المواد الغذائية ارتفاعا طفيفا خلال الشهر الماضي، حسب المذكرة الإخبارية الصادرة عن المندوبية السامية للتخطيط.
أعلن الفريق عن تمديد عقد مدربه لموسمين إضافيين بعد تأهله إلى دور المجموعات من المسابقة القارية.
انطلقت حملة وطنية للتلقيح ضد الحصبة في المدارس الابتدائية بهدف بلوغ نسبة تغطية تفوق 95 في المائة.
""",
}


def build_articles(size: int) -> list[tuple[str, str]]:
    """(title, text) pairs: each labeled case padded to `size` characters with filler."""
    articles = []
    for line in CASES.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        paragraphs = [case["text"]]
        filler = cycle(FILLER.get(case["lang"], FILLER["fr"]).strip().splitlines())
        while sum(len(p) + 1 for p in paragraphs) < size:
            paragraphs.append(next(filler))
        articles.append((case["title"], "\n".join(paragraphs)[:size]))
    return articles


def build_everyday(size: int, count: int = 60) -> list[tuple[str, str]]:
    """(title, text) pairs made of filler only, in the three languages, each starting elsewhere."""
    articles = []
    for number in range(count):
        paragraphs = FILLER[("fr", "en", "ar")[number % 3]].strip().splitlines()
        rotated = cycle(
            paragraphs[number % len(paragraphs) :] + paragraphs[: number % len(paragraphs)]
        )
        text: list[str] = []
        while sum(len(p) + 1 for p in text) < size:
            text.append(next(rotated))
        articles.append((text[0][:80], "\n".join(text)[:size]))
    return articles


def rate(work: list[tuple[str, str]], repeats: int, action: Callable[[str, str], object]) -> float:
    """Articles per second for `action(title, text)`: the best of `repeats` passes, since other
    processes on the machine only ever slow a pass down (the `timeit` convention)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for title, text in work:
            action(title, text)
        best = min(best, time.perf_counter() - start)
    return len(work) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, default=default_rules_path())
    parser.add_argument("--size", type=int, default=5000, help="characters per article")
    parser.add_argument("--repeats", type=int, default=20, help="passes over the articles")
    args = parser.parse_args()

    start = time.perf_counter()
    engine = RuleEngine.from_path(args.rules)
    build = time.perf_counter() - start
    articles = build_articles(args.size)
    for title, text in articles:  # warm the hit cache, as a long-running worker has
        engine.evaluate(title, text)
    kept = sum(engine.evaluate(title, text).matched for title, text in articles)

    def fold(title: str, text: str) -> None:
        normalize_text(title)
        normalize_text(text)

    folding = rate(articles, args.repeats, fold)
    matching = rate(articles, args.repeats, engine.evaluate)
    everyday = build_everyday(args.size)
    for title, text in everyday:
        engine.evaluate(title, text)
    everyday_folding = rate(everyday, args.repeats, fold)
    everyday_matching = rate(everyday, args.repeats, engine.evaluate)
    print(f"rules: {args.rules} (digest {engine.rules_digest}), built in {build * 1000:.0f} ms")
    print(f"articles: {len(articles)} of {args.size} characters, {kept} kept by the rules")
    print(f"best of {args.repeats} passes on one core:")
    print("labeled cases (dense in the rules' vocabulary):")
    print(f"  normalise only: {folding:10,.0f} articles/s")
    print(
        f"  evaluate:       {matching:10,.0f} articles/s  ({folding / matching:.1f}x normalising)"
    )
    print(f"everyday news only ({len(everyday)} articles, French, English, Arabic):")
    print(f"  normalise only: {everyday_folding:10,.0f} articles/s")
    ratio = everyday_folding / everyday_matching
    print(f"  evaluate:       {everyday_matching:10,.0f} articles/s  ({ratio:.1f}x normalising)")


if __name__ == "__main__":
    main()
