"""Skip trafilatura's readability comparison where readability's text cannot be chosen.

Unless in fast mode, trafilatura extracts a page's text with its own rules, then always prunes a
copy of the raw page and runs its readability port on it, and takes readability's text instead
only when its own text is empty, holds no paragraph text or more tables than paragraphs, or is
less than half as long as readability's (`trafilatura.external._prefer_readability`; the other
cases are for recall mode). Readability keeps part of the page's text and adds next to none
(`readability_text_bound`), so when the page's whole text is at most twice as long as
trafilatura's own, none of these can hold, and the pruning and readability (1 ms of a 4 ms news
page) are spent for nothing. On such a page this gate hands trafilatura's comparison an empty
document instead: readability finds no text in it and loses, as it would have lost on the page;
the rest of the comparison (the jusText rescue) runs unchanged. What readability and the
comparison log at debug level about that empty document ("No candidate found", a length of 0)
is left out, and the gate says instead that it skipped readability. The extracted article is
the same, byte for byte (tests/test_readability_gate.py).

Only extractions that ask for it (`GatedExtractor`, which the crawl uses) are gated: another
caller in the same process, such as the benchmark's plain `trafilatura.extract`, is untouched.
The reasoning holds for the trafilatura releases in `VERIFIED_VERSIONS`, whose comparison and
readability port were read for it (with libxml2 2.14's HTML parser); on any other release
nothing is patched and `crawler.extract.build_extractor` builds a plain extractor.
"""

from __future__ import annotations

import logging
import re
import warnings
from contextvars import ContextVar
from typing import TYPE_CHECKING

from lxml.etree import iterwalk, tostring
from lxml.html import Element
from urllib3.exceptions import DependencyWarning

from crawler.template_verdicts import template_verdicts

with warnings.catch_warnings():
    # trafilatura's downloader probes for SOCKS proxy support on import (see crawler.extract).
    warnings.simplefilter("ignore", DependencyWarning)
    import trafilatura
    import trafilatura.core
    import trafilatura.external
    import trafilatura.readability_lxml
    from trafilatura.readability_lxml import REGEXES
    from trafilatura.settings import Extractor

if TYPE_CHECKING:
    from collections.abc import Callable

    from lxml.etree import _Element
    from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

VERIFIED_VERSIONS = frozenset({"2.3.0", "2.3.1"})
# Readability drops these elements' own text (not their tail) before it scores anything.
_DROPPED_FIRST = ("script", "style")
# Readability writes this into an <iframe> of a video site it keeps.
_IFRAME_TEXT = len("VIDEO")
# Raw-text elements it keeps, whose text the HTML parser reads back undecoded (libxml2 2.14).
_RAW_TEXT = ("xmp", "noembed", "noframes", "plaintext")
# Whitespace to str.split(), but not XML characters: lxml writes each as "&#xFFFD;".
_XML_INVALID_SPACE = re.compile("[\x0b\x0c\x1c-\x1f]")
_UNLIKELY = REGEXES["unlikelyCandidatesRe"]
_MAYBE = REGEXES["okMaybeItsACandidateRe"]
# Set while trafilatura compares its text with readability's on a gated page's empty document.
_comparing_empty: ContextVar[bool] = ContextVar("newswatch_readability_gated", default=False)


class GatedExtractor(Extractor):
    """trafilatura's options, marked so that `compare_extraction` may skip a losing readability."""

    __slots__ = ()


def readability_text_bound(tree: HtmlElement, limit: int | None = None) -> int | None:
    """At least the length of any text readability can make of `tree`, trimmed as trafilatura
    does; None where no bound is known. Over `limit`, the bound is made tighter (and costlier):
    the text of the blocks readability removes first is taken off (`_unlikely_text`).

    Readability keeps, moves or drops the tree's text nodes; it never repeats or splits one, and
    adds only "VIDEO" to iframes. Measured with a space between every two text nodes, a text's
    trimmed length can only shrink when nodes are dropped or brought together, so the whole
    tree's length so measured bounds any of readability's results. That length is at most the
    tree's text measured without the spaces, plus one per text node (lxml's C serialiser gives
    the text five times faster than walking the nodes). Raw-text elements are the exception:
    readability's result goes through XML and back through the HTML parser, which decodes no
    entity there, so each "<" in them comes back as "&lt;" (and after <plaintext>, all markup
    comes back as text). So are the control characters that count as whitespace here but are
    not allowed in XML, which the round trip turns into a visible U+FFFD each (a page holding
    "&#12;" references).
    """
    if next(tree.iter(*_RAW_TEXT), None) is not None:
        return None
    text = tostring(tree, method="text", encoding=str)
    if _XML_INVALID_SPACE.search(text):
        return None
    length = _measured(text) + int(tree.xpath("count(//text())"))
    length -= sum(map(_dropped_first_text, tree.iter(*_DROPPED_FIRST)))
    iframes = sum(1 for _ in tree.iter("iframe"))
    bound = length + 1 + iframes * (_IFRAME_TEXT + 1)
    if limit is not None and bound > limit:
        bound -= _unlikely_text(tree)
    return bound


def _unlikely_text(tree: HtmlElement) -> int:
    """At most what the blocks readability removes before anything else add to the bound.

    Readability drops every element whose class and id look like page furniture ("menu",
    "footer", "sidebar", ... and not "article", "content", ...; `remove_unlikely_candidates`),
    with all it holds but its tail: a news template's mega-menu and link-farm footer. Their text,
    measured without spaces between its nodes, is less than what it adds to the bound; script
    and style text in them, taken off the bound already, is not taken off twice.

    Only `tree`'s own subtree is walked, the text the bound counts: markup after </html> (a
    second top-level element) is not in the bound, and taking its text off would bring the
    bound under readability's text. The walk skips what a dropped block holds: 0.6 ms on a
    130 KB news page, against 2.6 ms for testing each element with a class or id against its
    ancestors.
    """
    removed = 0
    walker = iterwalk(tree, events=("start",))
    for _event, element in walker:
        if _unlikely(element):
            walker.skip_subtree()
            removed += _measured(tostring(element, method="text", encoding=str, with_tail=False))
            removed -= sum(map(_dropped_first_text, element.iter(*_DROPPED_FIRST)))
    return removed


def _measured(text: str) -> int:
    """The length of `text` trimmed as trafilatura measures it (runs of whitespace as one)."""
    return len(" ".join(text.split()))


def _dropped_first_text(element: HtmlElement) -> int:
    """What a script or style element's own text adds to the bound: its text node counts as its
    words joined by spaces, plus one space after it (nothing if it has no words)."""
    measured = _measured(element.text or "")
    return measured + 1 if measured else 0


def _unlikely(element: _Element) -> bool:
    """`remove_unlikely_candidates`' test, on its own regular expressions."""
    css_class, element_id = element.get("class"), element.get("id")
    if css_class is None and element_id is None:
        return False
    attributes = " ".join(filter(None, (css_class, element_id)))
    if len(attributes) < 2 or element.tag in ("html", "body"):
        return False
    return _unlikely_attributes(attributes)


@template_verdicts
def _unlikely_attributes(attributes: str) -> bool:
    lowered = attributes.lower()
    return bool(_UNLIKELY.search(lowered)) and not _MAYBE.search(lowered)


def readability_cannot_win(
    tree: HtmlElement, body: _Element, text: str, options: Extractor
) -> bool:
    """Whether `_prefer_readability` is sure to keep trafilatura's own `body` and `text`."""
    if not text or options.focus == "recall":
        return False
    # Readability could then win with a text no longer than the own one: run it.
    if not body.xpath(".//p//text()") or len(body.findall(".//table")) > len(body.findall(".//p")):
        return False
    limit = 2 * len(text)
    bound = readability_text_bound(tree, limit)
    return bound is not None and bound <= limit


def _gated(compare: Callable[..., tuple[_Element, str]]) -> Callable[..., tuple[_Element, str]]:
    def compare_extraction(
        cleaned_tree: HtmlElement,
        raw_tree: HtmlElement,
        body: _Element,
        text: str,
        options: Extractor,
    ) -> tuple[_Element, str]:
        if not isinstance(options, GatedExtractor) or not readability_cannot_win(
            raw_tree, body, text, options
        ):
            return compare(cleaned_tree, raw_tree, body, text, options)
        logger.debug("Readability skipped (it cannot win): %s", options.source)
        token = _comparing_empty.set(True)
        try:
            return compare(cleaned_tree, Element("html"), body, text, options)
        finally:
            _comparing_empty.reset(token)

    compare_extraction.__wrapped__ = compare  # type: ignore[attr-defined]
    compare_extraction.readability_gate = True  # type: ignore[attr-defined]
    return compare_extraction


def install() -> bool:
    """Put the gate in front of trafilatura's comparison, once; False where it does not apply."""
    compare = trafilatura.core.compare_extraction  # type: ignore[attr-defined]
    if getattr(compare, "readability_gate", False):
        return True
    if trafilatura.__version__ not in VERIFIED_VERSIONS:
        logger.debug(
            "trafilatura %s: readability is compared on every page (gate verified for %s)",
            trafilatura.__version__,
            ", ".join(sorted(VERIFIED_VERSIONS)),
        )
        return False
    if compare is not trafilatura.external.compare_extraction:
        return False  # someone else replaced it: leave theirs alone
    trafilatura.core.compare_extraction = _gated(compare)  # type: ignore[attr-defined]
    for name in (trafilatura.readability_lxml.__name__, trafilatura.external.__name__):
        logging.getLogger(name).addFilter(_about_the_empty_document)
    return True


def _about_the_empty_document(record: logging.LogRecord) -> bool:
    """False for what readability, and the comparison's length line, log about a gated page's
    empty document: they would tell of a failure that did not happen."""
    if not _comparing_empty.get():
        return True
    if record.name == trafilatura.readability_lxml.__name__:
        return False
    return not str(record.msg).startswith("extracted length")
