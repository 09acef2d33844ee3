"""`crawler.scrapy_imports`: Scrapy's download handler imported without `inspect.stack()`, its
deprecated aliases named as Scrapy names them. Each check runs in a fresh process, where the
handler is not imported yet."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import inspect, json, sys
calls = []
real_outer = inspect.getouterframes  # what inspect.stack() calls, with the caller's frame
inspect.getouterframes = lambda *args, **kwargs: calls.append(1) or real_outer(*args, **kwargs)
if sys.argv[1] == "ours":
    from crawler.scrapy_imports import import_download_handler
    import_download_handler()
else:
    import scrapy.core.downloader.handlers.http11
from scrapy.core.downloader import contextfactory, tls
from scrapy.utils import deprecate
print(json.dumps({
    "stack_calls": len(calls),
    "modules": [
        contextfactory.ScrapyClientContextFactory.__module__,
        contextfactory.AcceptableProtocolsContextFactory.__module__,
        tls.ScrapyClientTLSOptions.__module__,
    ],
    "restored": getattr(deprecate, "inspect", inspect) is inspect,
}))
"""


def run_check(how: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", CHECK, how],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_handler_is_imported_without_inspect_stack_and_aliases_keep_their_module():
    ours, scrapys = run_check("ours"), run_check("scrapy")
    assert scrapys["stack_calls"] == 3  # what the shortcut exists for
    assert ours["stack_calls"] == 0
    assert (
        ours["modules"]
        == scrapys["modules"]
        == [
            "scrapy.core.downloader.contextfactory",
            "scrapy.core.downloader.contextfactory",
            "scrapy.core.downloader.tls",
        ]
    )
    assert ours["restored"]
