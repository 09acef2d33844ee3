"""`crawler.middlewares.MetaRefreshMiddleware`: Scrapy's meta-refresh redirects, the same
answers, without decoding pages that cannot hold one."""

from __future__ import annotations

import pytest
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as ScrapyMetaRefresh
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.middlewares import MetaRefreshMiddleware

URL = "https://www.h24info.ma/economie/article"
REFRESH = '<meta http-equiv="Refresh" content="0; url=/economie/nouvelle-adresse">'
REFRESH_UPPER = '<META HTTP-EQUIV="REFRESH" CONTENT="0; url=/economie/nouvelle-adresse">'
PARAGRAPH = "<p>La région de l'Oriental et la Wallonie ont signé un accord de coopération.</p>"

PAGES = {
    "refresh": f"<html><head>{REFRESH}</head><body>{PARAGRAPH}</body></html>".encode(),
    "upper case": f"<html><head>{REFRESH_UPPER}</head></html>".encode(),
    "plain": f"<html><body>{PARAGRAPH * 50}</body></html>".encode(),
    "refresh in the text only": f"<html><body><p>refresh</p>{PARAGRAPH}</body></html>".encode(),
    "refresh past 4,096 characters": (
        f"<html><body>{PARAGRAPH * 80}{REFRESH}</body></html>".encode()
    ),
    "utf-16": f"<html><head>{REFRESH}</head></html>".encode("utf-16-le"),
    "arabic, no refresh": f"<html><body><p>{'جهة الشرق ' * 2000}</p></body></html>".encode(),
    # 4-byte characters: the refresh sits within the first 4,096 characters, near byte 15,600.
    "refresh after 3,900 emoji": f"<html><head><title>{'🌍' * 3900}</title>{REFRESH}".encode(),
    "arabic, utf-8": (
        f"<html><head>{REFRESH}</head><body><p>{'وقعت جهة الشرق اتفاقية تعاون ' * 20}</p>"
        "</body></html>"
    ).encode(),
}


@pytest.fixture(scope="module")
def middlewares() -> tuple[MetaRefreshMiddleware, ScrapyMetaRefresh]:
    crawler = get_crawler(settings_dict={})
    return MetaRefreshMiddleware.from_crawler(crawler), ScrapyMetaRefresh.from_crawler(crawler)


def answer(result: object) -> str:
    return result.url if isinstance(result, Request) else "no redirect"


@pytest.mark.parametrize("page", list(PAGES))
def test_the_same_redirects_as_scrapy(middlewares, page):
    ours, scrapys = middlewares
    request = Request(URL)

    def response() -> HtmlResponse:
        encoding = "utf-16-le" if page == "utf-16" else "utf-8"
        return HtmlResponse(URL, body=PAGES[page], request=request, encoding=encoding)

    assert answer(ours.process_response(request, response())) == answer(
        scrapys.process_response(request, response())
    )


def test_redirects_where_the_page_says_so_and_only_there(middlewares):
    ours, _ = middlewares
    request = Request(URL)
    expected = "https://www.h24info.ma/economie/nouvelle-adresse"
    for page in ("refresh", "upper case", "utf-16", "arabic, utf-8", "refresh after 3,900 emoji"):
        encoding = "utf-16-le" if page == "utf-16" else "utf-8"
        response = HtmlResponse(URL, body=PAGES[page], request=request, encoding=encoding)
        assert answer(ours.process_response(request, response)) == expected, page
    for page in ("plain", "arabic, no refresh", "refresh past 4,096 characters"):
        response = HtmlResponse(URL, body=PAGES[page], request=request, encoding="utf-8")
        assert ours.process_response(request, response) is response, page
