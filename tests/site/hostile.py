"""The `hostile` outlet: one failure mode per path, as Scrapy's mock server has them.

Decompression bombs, an over-sized page, entity-expansion and external-entity feeds, control
characters, a lying charset, a redirect loop, a 500, a slow answer, a feed that is HTML, a PDF
and a photo gallery. The article entries come from fixtures/hostile.toml, the feeds and the
sitemap bomb from fixtures/traps.toml; big bodies are built on first request, then kept.
"""

from __future__ import annotations

import threading
import zlib
from functools import cache
from typing import TYPE_CHECKING

from tests.site import documents, pages, replies
from tests.site.outlets import Outlet
from tests.site.pages import Entry, Style
from tests.site.replies import Reply

if TYPE_CHECKING:
    from collections.abc import Callable

BOMB_INFLATED_BYTES = 60 * 1024 * 1024  # more than 50 MB once inflated
HUGE_PAGE_BYTES = 13 * 1024 * 1024  # more than 12 MB, over the default max_page_bytes
# Code points a latin-1 page cannot carry, replaced in its page furniture.
LATIN1_SAFE = str.maketrans({"’": "'", "–": "-", "—": "-", "…": "...", "œ": "oe", "›": ">"})
# C0 controls (NUL first) and DEL, one group per paragraph, each right after a space.
CONTROL_GROUPS = ("\x00", "\x01\x02", "\x0b", "\x0c\x1b", "\x7f", "\x00\x08")

_build_lock = threading.Lock()


def gzip_bomb(prefix: bytes, suffix: bytes, inflated: int = BOMB_INFLATED_BYTES) -> bytes:
    """A small gzip member whose content is `prefix`, `inflated` bytes of blanks, `suffix`."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b" " * (1024 * 1024)
    parts = [packer.compress(prefix)]
    for _ in range(inflated // len(chunk)):
        parts.append(packer.compress(chunk))
    parts += [packer.compress(suffix), packer.flush()]
    return b"".join(parts)


@cache
def bomb_page() -> bytes:
    prefix = (
        b'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        b'<title>Dossier sp\xc3\xa9cial</title></head><body><div class="dossier">'
    )
    return gzip_bomb(prefix, b"</div></body></html>")


@cache
def bomb_sitemap() -> bytes:
    prefix = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    )
    return gzip_bomb(prefix, b"\n</urlset>\n")


@cache
def huge_page() -> bytes:
    line = (
        "<p>Intervention d’un conseiller : la commission des finances a examiné point par point "
        "les crédits du budget, ligne après ligne, article après article.</p>\n"
    ).encode()
    head = (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Compte rendu '
        "intégral de la session du Conseil</title></head><body><h1>Compte rendu intégral</h1>\n"
    ).encode()
    return head + line * (HUGE_PAGE_BYTES // len(line) + 1) + b"</body></html>\n"


def minimal_pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF (with a correct xref table) showing a few ASCII lines."""
    text = " ".join(f"({line.replace('(', '[').replace(')', ']')}) Tj 0 -20 Td" for line in lines)
    stream = f"BT /F1 14 Tf 72 740 Td {text} ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>"
        ),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def with_controls(paragraphs: tuple[str, ...]) -> list[str]:
    """Insert control characters after the space nearest the middle of each paragraph."""
    dirty = []
    for index, paragraph in enumerate(paragraphs):
        middle = paragraph.find(" ", len(paragraph) // 2) + 1 or len(paragraph)
        group = CONTROL_GROUPS[index % len(CONTROL_GROUPS)]
        dirty.append(paragraph[:middle] + group + paragraph[middle:])
    return dirty


def lazily(build: Callable[[], bytes]) -> Callable[[], bytes]:
    """Build a big body once, even when two requests ask for it at the same time."""

    def body() -> bytes:
        with _build_lock:
            return build()

    return body


class Hostile(Outlet):
    name = "hostile"
    style = Style("hostile", "Sud Infos Express", "fr")

    def add_routes(self) -> None:
        self.routes["/"] = self.listing_reply("À la une", "homepage")
        self.routes["/feed.xml"] = self.rss_reply(
            self.listed("feed"), "/feed.xml", "Sud Infos Express"
        )
        in_sitemap = self.listed("sitemap")
        self.routes["/sitemap-pages.xml"] = self.urlset_reply(in_sitemap)
        traps = {t.kind: t for t in self.manifest.traps if t.outlet == self.name}
        bomb_path = traps["gzip_bomb_sitemap"].path
        index = documents.sitemap_index(
            [
                (self.url("/sitemap-pages.xml"), self.last_modified(in_sitemap)),
                (self.url(bomb_path), self.now),
            ]
        )
        self.routes["/sitemap_index.xml"] = replies.document(index, replies.XML, self.now)
        self.routes[bomb_path] = Reply(
            content_type=replies.GZIP_FILE,
            body_factory=lazily(bomb_sitemap),
            etag='W/"sitemap-bomb-60m"',
            last_modified=self.now,
            compressible=False,
        )
        self.routes[traps["billion_laughs_feed"].path] = self._feed_doc(self._laughs())
        self.routes[traps["xxe_feed"].path] = self._feed_doc(self._xxe())
        broken = (
            "<!DOCTYPE html><html><head><title>Erreur</title></head><body><h1>Service "
            "temporairement indisponible</h1><p>Veuillez réessayer plus tard.</p></body></html>"
        )
        self.routes[traps["not_xml_feed"].path] = replies.page(broken)
        self.routes["/loop/b"] = replies.redirect(self.url("/loop/a"))

    def _feed_doc(self, body: bytes) -> Reply:
        return replies.document(body, replies.RSS, self.now)

    def _first_url(self, kind: str) -> str:
        return next(e.url for e in self.entries if e.article.kind == kind)

    def _laughs(self) -> bytes:
        entities = ['<!ENTITY lol "lol">'] + [
            f'<!ENTITY lol{i} "{(f"&lol{i - 1};" if i > 1 else "&lol;") * 10}">'
            for i in range(1, 10)
        ]
        when = documents.rfc822(self.now)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE rss [\n'
            + "\n".join(entities)
            + '\n]>\n<rss version="2.0"><channel><title>&lol9;</title>'
            f"<link>{self.base}/</link><description>&lol9;</description>"
            f"<item><title>&lol9;</title><link>{self._first_url('article')}</link>"
            f"<description>&lol9;</description><pubDate>{when}</pubDate></item>"
            "</channel></rss>\n"
        ).encode()

    def _xxe(self) -> bytes:
        when = documents.rfc822(self.now)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE rss [\n'
            '<!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'
            '<rss version="2.0"><channel><title>Flux partenaires</title>'
            f"<link>{self.base}/</link><description>&xxe;</description>"
            f"<item><title>Nos partenaires &xxe;</title><link>{self._first_url('control_chars')}</link>"
            f"<description>&xxe;</description><pubDate>{when}</pubDate></item>"
            "</channel></rss>\n"
        ).encode()

    def article_reply(self, entry: Entry) -> Reply:
        a = entry.article
        if a.kind == "control_chars":
            return replies.page(self.render_article(entry, with_controls(a.paragraphs)))
        if a.kind == "slow":
            reply = super().article_reply(entry)
            reply.delay = self.options.slow_seconds
            return reply
        if a.kind == "gzip_bomb_page":
            return Reply(
                body_factory=lazily(bomb_page),
                headers=(("Content-Encoding", "gzip"),),
                compressible=False,
            )
        if a.kind == "huge_page":
            return Reply(body_factory=lazily(huge_page), compressible=False)
        if a.kind == "server_error":
            text = "<html><head><title>500</title></head><body><h1>Erreur interne du serveur</h1></body></html>"
            return replies.page(text, status=500)
        if a.kind == "redirect_loop":
            return replies.redirect(self.url("/loop/b"))
        if a.kind == "pdf":
            pdf = minimal_pdf(["Rapport annuel de la cooperation regionale", "Sud Infos Express"])
            return Reply(body=pdf, content_type="application/pdf", compressible=False)
        if a.kind == "gallery":
            return replies.page(self._gallery(entry))
        if a.encoding != "utf-8":
            text = self.render_article(entry).translate(LATIN1_SAFE)
            return replies.page(text, encoding=a.encoding, charset=a.charset_header)
        return super().article_reply(entry)

    def _gallery(self, entry: Entry) -> str:
        a = entry.article
        figures = "\n".join(
            f'<figure class="gallery-item"><img src="/images/galerie/{pages.slug_id(a.id)}-{i}.jpg" '
            f'alt=""><figcaption>{pages.esc(caption)}</figcaption></figure>'
            for i, caption in enumerate(a.paragraphs, start=1)
        )
        main = f'<div class="gallery"><h1>{pages.esc(a.title)}</h1>\n{figures}\n</div>'
        return pages.page(
            self.style,
            base=self.base,
            title=a.title,
            main=main,
            sidebar=pages.most_read(self.style, self.entries, exclude=a.id),
            year=self.now.year,
            head=pages.open_graph(entry, self.style.site),
        )


def inflated_size(packed: bytes, limit: int = 2 * BOMB_INFLATED_BYTES) -> int:
    """How many bytes a gzip body inflates to, counted in bounded steps (for the tests)."""
    unpacker = zlib.decompressobj(31)
    total, data = 0, packed
    while data and total <= limit:
        total += len(unpacker.decompress(data, 1024 * 1024))
        data = unpacker.unconsumed_tail
    return total
