"""Skip the metadata trafilatura looks for and newswatch never keeps: categories, tags, license.

With metadata on, trafilatura also searches each page for category and tag links (several XPath
passes over the whole tree, each link's href tested by a regular expression) and for a license
link: 0.41 ms of its 0.74 ms of metadata on a bulk page, and a tenth of an article's
extraction. newswatch keeps the title, author, date and description, none of which these
searches feed (`trafilatura.metadata.extract_metadata` runs them last, on their own).

Only extractions inside `skipping()` are trimmed (`crawler.extract.extract_article` uses it):
another caller in the same process, such as the benchmark's plain `trafilatura.extract`, gets
the whole metadata. The functions are replaced only on the trafilatura releases in
`VERIFIED_VERSIONS`, whose `extract_metadata` was read for this; elsewhere `skipping()` changes
nothing.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from urllib3.exceptions import DependencyWarning

with warnings.catch_warnings():
    # trafilatura's downloader probes for SOCKS proxy support on import (see crawler.extract).
    warnings.simplefilter("ignore", DependencyWarning)
    import trafilatura
    import trafilatura.metadata

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

VERIFIED_VERSIONS = frozenset({"2.3.0", "2.3.1"})
# Name in trafilatura.metadata -> what a skipped call returns: what the search returns on a page
# without any categories, tags or license.
_SKIPPED: dict[str, Callable[[], Any]] = {"extract_catstags": list, "extract_license": type(None)}

_skipping: ContextVar[bool] = ContextVar("newswatch_metadata_trim", default=False)


@contextlib.contextmanager
def skipping() -> Iterator[None]:
    """Within this block, trafilatura skips the searches named in `_SKIPPED` (once installed)."""
    token = _skipping.set(True)
    try:
        yield
    finally:
        _skipping.reset(token)


def install() -> bool:
    """Put the skippable wrappers in place, once; False where the trim does not apply."""
    if trafilatura.__version__ not in VERIFIED_VERSIONS:
        return False
    for name, nothing in _SKIPPED.items():
        function = getattr(trafilatura.metadata, name)
        if not getattr(function, "metadata_trim", False):
            setattr(trafilatura.metadata, name, _skippable(function, nothing))
    return True


def _skippable(function: Callable[..., Any], nothing: Callable[[], Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def skippable(*args: Any, **kwargs: Any) -> Any:
        if _skipping.get():
            return nothing()
        return function(*args, **kwargs)

    skippable.metadata_trim = True  # type: ignore[attr-defined]
    return skippable
