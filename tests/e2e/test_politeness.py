"""Politeness against a real local server: Retry-After on 429/503, the user agent, robots.txt."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.e2e.test_crawl_e2e import CrawlSetup

ARTICLE = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>"""
PARAGRAPHS = "".join(
    f"<p>{text}</p>"
    for text in (
        (
            "Le conseil de la région de l'Oriental a reçu cette semaine une délégation de la région "
            "wallonne pour préparer un programme commun de formation professionnelle des jeunes."
        ),
        (
            "Les deux collectivités veulent aussi accompagner les petites entreprises de Nador, "
            "d'Oujda et de Berkane qui cherchent des partenaires en Belgique francophone."
        ),
        (
            "Un premier appel à projets doit être lancé au printemps, avec un comité de suivi qui "
            "se réunira deux fois par an, alternativement à Oujda et à Namur."
        ),
        (
            "Les élus ont enfin évoqué l'échange de bonnes pratiques dans la gestion de l'eau et "
            "la valorisation des déchets, deux priorités du plan de développement régional."
        ),
    )
)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log: list[tuple[float, str, str]]
    hits: dict[str, int]

    def do_GET(self) -> None:
        self.log.append((time.monotonic(), self.path, self.headers.get("User-Agent", "")))
        self.hits[self.path] = self.hits.get(self.path, 0) + 1
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/robots.txt":
            self._send(200, "User-agent: *\nDisallow: /private/\n", "text/plain")
        elif self.path == "/feed.xml":
            items = "".join(
                f"<item><title>t{n}</title><link>{base}{path}</link></item>"
                for n, path in enumerate(["/a/busy", "/a/down", "/private/secret"])
            )
            rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>'
            self._send(200, rss, "application/rss+xml")
        elif self.path == "/a/busy" and self.hits[self.path] == 1:
            self._send(429, "slow down", "text/plain", {"Retry-After": "1"})
        elif self.path == "/a/down":
            self._send(503, "maintenance", "text/plain", {"Retry-After": "1"})
        elif self.path.startswith("/a/"):
            html = ARTICLE.format(
                title="L'Oriental et la Wallonie préparent un programme commun", body=PARAGRAPHS
            )
            self._send(200, html, "text/html; charset=utf-8")
        else:
            self._send(404, "not found", "text/plain")

    def _send(
        self, status: int, body: str, kind: str, headers: dict[str, str] | None = None
    ) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def busy_site() -> Iterator[tuple[str, list[tuple[float, str, str]]]]:
    log: list[tuple[float, str, str]] = []
    handler = type("Handler", (_Handler,), {"log": log, "hits": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()


def test_retry_after_user_agent_and_robots(busy_site, tmp_path):
    base, log = busy_site
    config = tmp_path / "polite.toml"
    config.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path / "polite.db"}"

[crawl]
autothrottle = false
download_delay = 0
user_agent = "newswatch-test/1.0 (+mailto:test@example.org)"

[[sources]]
name = "busy"
feeds = ["{base}/feed.xml"]
discover = ["feeds"]
""",
        encoding="utf-8",
    )
    result = CrawlSetup(tmp_path, config, "").crawl()
    # 429 then 200: the article is stored; the 503 that never ends is one counted error.
    assert "1 articles extracted" in result.stdout
    assert "1 errors" in result.stdout
    assert "HTTP 503 for article" in result.stdout
    busy = [when for when, path, _ in log if path == "/a/busy"]
    assert len(busy) == 2
    assert busy[1] - busy[0] >= 0.9, "Retry-After: 1 was not honoured"
    down = [path for _, path, _ in log if path == "/a/down"]
    assert 2 <= len(down) <= 5, "503 retries must be bounded"
    assert all(agent == "newswatch-test/1.0 (+mailto:test@example.org)" for *_, agent in log)
    assert not [path for _, path, _ in log if path.startswith("/private/")]
