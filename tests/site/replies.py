"""What an outlet answers: `Reply` values and the helpers that build the common ones.

The HTTP server (`tests.site.server`) turns a `Reply` into bytes on the wire: conditional
requests, gzip when the client accepts it, delays. Outlets only decide what to answer.
"""

from __future__ import annotations

import gzip
import hashlib
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

XML = "application/xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
GZIP_FILE = "application/x-gzip"


@dataclass(frozen=True, slots=True)
class Request:
    path: str  # unquoted, without the query string
    query: dict[str, str]
    target: str  # as sent: percent-encoded, with the query string


@dataclass(slots=True)
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    etag: str | None = None  # set (with last_modified) on feeds and sitemaps
    last_modified: datetime | None = None
    compressible: bool = True  # gzip when the client accepts it
    delay: float = 0.0  # seconds to wait before answering
    body_factory: Callable[[], bytes] | None = None  # huge bodies, built on first use
    gzipped: bytes | None = field(default=None, repr=False)  # cache for static replies

    def payload(self) -> bytes:
        return self.body_factory() if self.body_factory else self.body


Route = Reply | Callable[[Request], Reply]


def document(body: bytes, content_type: str, last_modified: datetime) -> Reply:
    """A feed or sitemap: answers 304 to a matching If-None-Match or If-Modified-Since.

    The ETag is weak, as nginx makes it when it gzips: the same validator for both encodings.
    """
    etag = 'W/"' + hashlib.sha1(body).hexdigest()[:20] + '"'
    return Reply(body=body, content_type=content_type, etag=etag, last_modified=last_modified)


def gzip_file(body: bytes, last_modified: datetime) -> Reply:
    """A `.xml.gz` sitemap: a gzip file, not a gzip Content-Encoding."""
    packed = gzip.compress(body, mtime=0)
    reply = document(packed, GZIP_FILE, last_modified)
    reply.compressible = False
    return reply


def page(text: str, *, status: int = 200, encoding: str = "utf-8", charset: str = "utf-8") -> Reply:
    """An HTML page; `charset` is what the header declares ("" for nothing)."""
    content_type = f"text/html; charset={charset}" if charset else "text/html"
    return Reply(status=status, body=text.encode(encoding), content_type=content_type)


def plain(text: str) -> Reply:
    return Reply(body=text.encode("utf-8"), content_type=TEXT)


def redirect(location: str, status: int = 302) -> Reply:
    body = f'<html><body><a href="{html.escape(location)}">Moved</a></body></html>'
    return Reply(status=status, body=body.encode(), headers=(("Location", location),))


def not_found(site: str) -> Reply:
    text = (
        f"<!DOCTYPE html><html><head><title>Page introuvable - {html.escape(site)}</title></head>"
        "<body><h1>404</h1><p>La page demandée n’existe pas ou a été déplacée.</p>"
        '<p><a href="/">Retour à l’accueil</a></p></body></html>'
    )
    return page(text, status=404)
