"""A cache for tests on a page's id and class attributes, which templates repeat on every page.

The extraction tests each block's id and class against regular expressions (`crawler.extract`'s
boilerplate blocks, `crawler.readability_gate`'s furniture): a news template carries the same
few hundred values on all its pages, so each verdict is computed once per process. Values over
`LONGEST` characters (a hostile page's huge attributes) are tested but not kept.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

LONGEST = 200
SIZE = 4096  # verdicts kept, the least recently used dropped first


def template_verdicts(test: Callable[..., bool]) -> Callable[..., bool]:
    """`test` (on strings or None), remembered for the values templates repeat."""
    cached = functools.lru_cache(maxsize=SIZE)(test)

    @functools.wraps(test)
    def verdict(*values: str | None) -> bool:
        if sum(len(value or "") for value in values) > LONGEST:
            return test(*values)
        return cached(*values)

    return verdict
