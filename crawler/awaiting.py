"""Await a thread's or a process's `concurrent.futures.Future`, or a delay, from Scrapy code,
whichever Twisted reactor runs the crawl.

newswatch runs Scrapy on Twisted's own reactor, not the asyncio one: a crawl's main process
spent a sixth of its time in asyncio's event loop and Scrapy's asyncio glue around it
(benchmarks/crawl_local.py). `asyncio.wrap_future` and `asyncio.sleep` need that loop; these
do the same with Deferreds, which Scrapy awaits under any reactor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer, task

if TYPE_CHECKING:
    from collections.abc import Awaitable
    from concurrent.futures import Future

T = TypeVar("T")


def future_result(future: Future[T]) -> Awaitable[T]:
    """Awaitable result of `future`, delivered on the reactor's thread.

    Cancelling the awaitable does not cancel the work (unlike `asyncio.wrap_future`): a page
    already sent to a worker is extracted, a write already queued is made.
    """
    from twisted.internet import reactor

    deferred: defer.Deferred[T] = defer.Deferred()

    def settle(done: Future[T]) -> None:
        if done.cancelled():
            deferred.cancel()
        elif (error := done.exception()) is not None:
            deferred.errback(error)
        else:
            deferred.callback(done.result())

    future.add_done_callback(lambda done: reactor.callFromThread(settle, done))
    return maybe_deferred_to_future(deferred)


def sleep(seconds: float) -> Awaitable[Any]:
    """Awaitable that resolves after `seconds`, without blocking the reactor."""
    from twisted.internet import reactor

    return maybe_deferred_to_future(task.deferLater(reactor, seconds))
