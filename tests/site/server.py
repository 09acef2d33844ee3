"""The local news site: one HTTP server per outlet on 127.0.0.1, run as a subprocess.

    python -m tests.site.server --log requests.log [--bulk N] [--bulk-mix MIX]
                                [--bulk-layout LAYOUT] [--now ISO] [--slow-seconds S]

It binds one OS-chosen port per outlet, prints ONE JSON line `{"outlets": {name: base URL}}`
on stdout (the readiness signal), then serves until SIGTERM or until its stdin closes. Each
request is appended to the log as a tab-separated line: outlet, method, path (with query),
status, If-None-Match, If-Modified-Since ("-" when absent). Standard library only.
"""

from __future__ import annotations

import argparse
import gzip
import json
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.site.bulk import LAYOUTS, MIXES, Bulk, render_bulk_page
from tests.site.cms import REGULAR_OUTLETS
from tests.site.hostile import Hostile
from tests.site.manifest import bind, load_manifest
from tests.site.outlets import Outlet, SiteOptions
from tests.site.replies import Reply, Request

if TYPE_CHECKING:
    from types import FrameType

__all__ = ["main", "render_bulk_page", "serve"]

COMPRESS_MIN_BYTES = 1024


class RequestLog:
    """Append-only, one flushed line per request, safe across handler threads."""

    def __init__(self, path: Path) -> None:
        self._file: TextIO = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, *fields: str) -> None:
        line = "\t".join(f.replace("\t", " ").replace("\n", " ") or "-" for f in fields)
        with self._lock:
            if not self._file.closed:  # a late handler thread during shutdown
                self._file.write(line + "\n")
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


class OutletServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: a crawler opening 16 connections at once then
    # saw the rest of its SYNs dropped and retried a second later (nginx's backlog is 511).
    request_queue_size = 128
    outlet: Outlet
    log: RequestLog

    def handle_error(self, request: object, client_address: object) -> None:
        # A crawler hanging up mid-body (the huge page, the bomb) is expected, not an error.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as crawlers expect from news sites
    # Headers and body go out in two writes; with Nagle on, a keep-alive client's delayed ACK
    # stalls every response by ~40 ms (measured on bulk pages: 91/s with it, ~1800/s without).
    disable_nagle_algorithm = True
    server: OutletServer
    server_version = "nginx"
    sys_version = ""

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default stderr access log: the request log is the record."""

    def _answer(self, *, send_body: bool) -> None:
        split = urlsplit(self.path)
        request = Request(unquote(split.path), dict(parse_qsl(split.query)), self.path)
        reply = self.server.outlet.handle(request)
        status = 304 if self._not_modified(reply) else reply.status
        inm = self.headers.get("If-None-Match", "")
        ims = self.headers.get("If-Modified-Since", "")
        self.server.log.write(
            self.server.outlet.name, self.command, self.path, str(status), inm, ims
        )
        if reply.delay:
            time.sleep(reply.delay)  # the slow page: bounded, one handler thread per request
        self.send_response(status)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.etag:
            self.send_header("ETag", reply.etag)
        if reply.last_modified:
            self.send_header("Last-Modified", format_datetime(reply.last_modified, usegmt=True))
        if status == 304:
            self.end_headers()
            return
        body = reply.payload()
        if reply.compressible and len(body) >= COMPRESS_MIN_BYTES and self._accepts_gzip():
            if reply.gzipped is None:
                reply.gzipped = gzip.compress(body, compresslevel=6, mtime=0)
            body = reply.gzipped
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _accepts_gzip(self) -> bool:
        accepted = self.headers.get("Accept-Encoding", "")
        return any(part.split(";")[0].strip() == "gzip" for part in accepted.split(","))

    def _not_modified(self, reply: Reply) -> bool:
        """RFC 9110: If-None-Match wins over If-Modified-Since; weak comparison for ETags."""
        if reply.status != 200 or not (reply.etag or reply.last_modified):
            return False
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            if not reply.etag:
                return False
            wanted = {tag.strip().removeprefix("W/") for tag in inm.split(",")}
            return "*" in wanted or reply.etag.removeprefix("W/") in wanted
        ims = self.headers.get("If-Modified-Since")
        if ims and reply.last_modified:
            try:
                since = parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            return reply.last_modified.replace(microsecond=0) <= since
        return False


def serve(
    log_path: Path,
    *,
    bulk: int = 0,
    bulk_mix: str = "distinct",
    bulk_layout: str = "lean",
    now: datetime | None = None,
    slow_seconds: float = 3.0,
) -> tuple[dict[str, str], list[OutletServer], RequestLog]:
    """Bind every outlet, build its pages and start serving in daemon threads."""
    now = now or datetime.now(UTC)
    classes: list[type[Outlet]] = [*REGULAR_OUTLETS, Hostile]
    names = [cls.name for cls in classes] + (["bulk"] if bulk else [])
    servers = {name: OutletServer(("127.0.0.1", 0), Handler) for name in names}
    bases = {
        name: f"http://127.0.0.1:{server.server_address[1]}" for name, server in servers.items()
    }
    manifest = bind(load_manifest(now=now), bases)
    options = SiteOptions(slow_seconds=slow_seconds)
    log = RequestLog(log_path)
    for cls in classes:
        servers[cls.name].outlet = cls(bases[cls.name], manifest, options)
    if bulk:
        servers["bulk"].outlet = Bulk(bases["bulk"], manifest, options, bulk, bulk_mix, bulk_layout)
    for server in servers.values():
        server.log = log
        threading.Thread(target=server.serve_forever, daemon=True).start()
    return bases, list(servers.values()), log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.site.server", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--log", required=True, type=Path, help="request log file (appended)")
    parser.add_argument("--bulk", type=int, default=0, help="add a 'bulk' outlet with N pages")
    parser.add_argument(
        "--bulk-mix", choices=MIXES, default="distinct", help="what bulk pages share (bulk.py)"
    )
    parser.add_argument(
        "--bulk-layout", choices=LAYOUTS, default="lean", help="the page around the text (bulk.py)"
    )
    parser.add_argument(
        "--now", type=datetime.fromisoformat, default=None, help="start time (ISO 8601)"
    )
    parser.add_argument("--slow-seconds", type=float, default=3.0, help="delay of the slow page")
    parser.add_argument("--ignore-stdin", action="store_true", help="do not stop when stdin closes")
    args = parser.parse_args(argv)
    now = args.now.astimezone(UTC) if args.now else None
    bases, servers, log = serve(
        args.log,
        bulk=args.bulk,
        bulk_mix=args.bulk_mix,
        bulk_layout=args.bulk_layout,
        now=now,
        slow_seconds=args.slow_seconds,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if not args.ignore_stdin:

        def watch_stdin() -> None:
            sys.stdin.buffer.read()  # returns at EOF: the parent closed our stdin or died
            stop.set()

        threading.Thread(target=watch_stdin, daemon=True).start()
    sys.stdout.write(json.dumps({"outlets": bases}) + "\n")
    sys.stdout.flush()
    stop.wait()
    # No server.shutdown(): each waits up to half a second for its poll loop, and the handler
    # threads are daemons that die with the process anyway.
    for server in servers:
        server.server_close()
    log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
