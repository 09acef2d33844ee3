"""The digest's storage: pending stories (one per story, with its other outlets), delivery
records, marking sent only on success, source health, and the digest lock. SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from storage.errors import CrawlLockedError
from storage.locks import daemon_holder, daemon_lock, digest_lock
from storage.records import ArticleRecord, RunStats
from storage.repository import Repository
from tests.dbfixtures import article_record

STORY = (
    "Le conseil de la région de l'Oriental et le Land de Rhénanie-Palatinat ont signé jeudi à "
    "Oujda une convention de coopération décentralisée portant sur la formation professionnelle, "
    "la gestion de l'eau et l'accompagnement des jeunes entreprises de la région. La convention "
    "prévoit des échanges d'experts, un programme de stages pour les lauréats des instituts "
    "techniques et la création d'un comité de suivi qui se réunira deux fois par an, a indiqué "
    "le président du conseil régional lors de la cérémonie de signature."
)
OTHER = (
    "La commune de Chefchaouen et la ville espagnole de Vejer de la Frontera ont renouvelé leur "
    "accord de jumelage lors d'une cérémonie tenue samedi, en présence des deux maires et des "
    "représentants des associations culturelles qui animent les échanges entre les deux villes "
    "depuis une vingtaine d'années, selon un communiqué publié par la commune."
)


def record(source: str, url: str, text: str, *, score: float = 12.0) -> ArticleRecord:
    return article_record(
        url,
        text,
        source=source,
        title=text[:60],
        published_at=datetime.now(UTC) - timedelta(hours=3),
        score=score,
        explanation={"tier": "core", "regions": ["Oriental"], "partners": [], "groups": {}},
    )


@pytest.fixture
def repo(db_url: str) -> Iterator[Repository]:
    with Repository(db_url) as repository:
        yield repository


def _send(repo: Repository, status: str = "sent") -> tuple[int, list[int]]:
    stories = repo.pending_stories()
    ids = [article_id for story in stories for article_id in story.article_ids]
    digest = repo.start_digest(
        kind="manual",
        message_id="<1@example.org>",
        subject="s",
        recipients=["veille@example.org"],
        stories=len(stories),
        article_ids=ids,
    )
    repo.finish_digest(digest, status=status, attempts=1, error=None if status == "sent" else "x")
    return digest, ids


def test_copies_on_other_outlets_make_one_entry_with_also_in(repo):
    lead = repo.save_article(record("lematin", "https://lematin.ma/oriental-rhenanie", STORY))
    copy = repo.save_article(
        record(
            "leseco",
            "https://leseco.ma/oriental-rhenanie",
            STORY.replace("jeudi", "ce jeudi") + " (avec MAP)",
            score=9.0,
        )
    )
    other = repo.save_article(record("hespress", "https://hespress.com/fr/jumelage", OTHER))
    assert lead.story_id == copy.story_id != other.story_id
    stories = {story.lead.url: story for story in repo.pending_stories()}
    assert set(stories) == {
        "https://lematin.ma/oriental-rhenanie",
        "https://hespress.com/fr/jumelage",
    }
    oriental = stories["https://lematin.ma/oriental-rhenanie"]
    assert oriental.also_in == (("leseco", "https://leseco.ma/oriental-rhenanie"),)
    assert sorted(oriental.article_ids) == sorted([lead.article_id, copy.article_id])
    assert oriental.lead.text == STORY
    assert repo.count_pending() == (2, 3)


def test_sent_stories_are_never_pending_again_not_even_a_late_copy(repo):
    repo.save_article(record("lematin", "https://lematin.ma/oriental-rhenanie", STORY))
    digest, ids = _send(repo)
    assert repo.pending_stories() == []
    late = repo.save_article(
        record("le360", "https://fr.le360.ma/oriental-rhenanie", STORY + " Mise à jour.")
    )
    assert late.new_match
    assert repo.pending_stories() == []  # the story went out already
    fresh = repo.save_article(record("hespress", "https://hespress.com/fr/jumelage", OTHER))
    assert [story.lead.article_id for story in repo.pending_stories()] == [fresh.article_id]
    [view] = [d for d in repo.list_digests() if d.id == digest]
    assert (view.status, view.articles, view.recipients) == (
        "sent",
        len(ids),
        ("veille@example.org",),
    )


@pytest.mark.parametrize("outcome", ["failed", "refused"])
def test_failed_delivery_keeps_stories_pending(repo, outcome):
    repo.save_article(record("lematin", "https://lematin.ma/oriental-rhenanie", STORY))
    _send(repo, outcome)
    assert len(repo.pending_stories()) == 1
    assert repo.list_digests()[0].status == outcome


def test_abandoned_sending_digest_is_closed_as_interrupted(repo):
    repo.save_article(record("lematin", "https://lematin.ma/oriental-rhenanie", STORY))
    repo.start_digest(
        kind="scheduled",
        message_id="<2@example.org>",
        subject="s",
        recipients=["a@example.org"],
        stories=1,
        article_ids=[1],
    )
    assert repo.close_abandoned_digests() == 1
    view = repo.list_digests()[0]
    assert view.status == "interrupted"
    assert "stay pending" in (view.error or "")
    assert len(repo.pending_stories()) == 1
    assert repo.last_digest_at() == view.created_at


def _run(repo: Repository, stats: dict, status: str = "ok", sources=("lematin", "leseco")) -> None:
    run = repo.start_run(list(sources))
    repo.finish_run(run, RunStats(), status, stats)


def test_source_silent_for_three_crawls_is_flagged(repo):
    alive = {"lematin": {"candidates": 0, "not_modified": 2}, "leseco": {"candidates": 0}}
    for _ in range(2):
        _run(repo, alive)
    assert repo.source_health(["lematin", "leseco"]) == []  # two crawls are not enough
    _run(repo, alive)
    [problem] = repo.source_health(["lematin", "leseco"])
    assert (problem.source, problem.problem, problem.crawls) == ("leseco", "silent", 3)
    _run(repo, {"leseco": {"candidates": 4, "articles": 1}})
    assert repo.source_health(["lematin", "leseco"]) == []


def test_failing_feeds_of_the_last_complete_crawl_are_flagged(repo):
    failed = ["https://leseco.ma/feed/"]
    _run(repo, {"lematin": {"candidates": 3}, "leseco": {"candidates": 2, "failed_urls": failed}})
    [problem] = repo.source_health(["lematin", "leseco"])
    assert (problem.source, problem.problem, problem.failed_urls) == (
        "leseco",
        "failing",
        tuple(failed),
    )
    # An interrupted crawl says nothing; the next complete one clears it.
    _run(repo, {"leseco": {"candidates": 0, "failed_urls": failed * 2}}, "interrupted")
    assert [p.source for p in repo.source_health()] == ["leseco"]
    _run(repo, {"lematin": {"candidates": 3}, "leseco": {"candidates": 2}})
    assert repo.source_health() == []


def test_only_configured_sources_are_judged(repo):
    for _ in range(3):
        _run(repo, {"gone": {}}, sources=("gone",))
    assert [p.source for p in repo.source_health()] == ["gone"]
    assert repo.source_health(["lematin"]) == []


def test_one_digest_at_a_time(db_url):
    with (
        digest_lock(db_url),
        pytest.raises(CrawlLockedError, match="another digest"),
        digest_lock(db_url),
    ):
        pass
    with digest_lock(db_url):
        pass  # released


def test_daemon_lock_is_exclusive_and_reported(db_url):
    assert daemon_holder(db_url) is None
    with daemon_lock(db_url):
        holder = daemon_holder(db_url)
        assert holder is not None
        assert holder.startswith("process")
        with pytest.raises(CrawlLockedError, match="already running"), daemon_lock(db_url):
            pass
    assert daemon_holder(db_url) is None
