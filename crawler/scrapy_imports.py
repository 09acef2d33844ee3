"""Scrapy's HTTP download handler, imported without the `inspect.stack()` calls it makes.

Importing `scrapy.core.downloader.handlers.http11` creates three deprecated aliases in Scrapy's
TLS modules (`scrapy.utils.deprecate.create_deprecated_class`), and each calls `inspect.stack()`
only to set the alias's `__module__`. `inspect.stack()` looks up the module and the source of
every frame on the stack, scanning all of `sys.modules` (CPython issue 92041): with the 1,100
modules a crawl has loaded by then, that was 0.07 to 0.2 s of every crawl's start. Here the
aliases get the same `__module__` from their caller's frame alone.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import FrameType, ModuleType

HANDLER_MODULE = "scrapy.core.downloader.handlers.http11"


def import_download_handler() -> None:
    """Import Scrapy's HTTP/HTTPS handler now (a crawl loads it when its engine is built)."""
    if HANDLER_MODULE in sys.modules:
        return
    from scrapy.utils import deprecate

    module: Any = deprecate  # its `inspect` is an import, not part of its typed interface
    if getattr(module, "inspect", None) is not inspect:  # a Scrapy that no longer uses it
        importlib.import_module(HANDLER_MODULE)
        return
    module.inspect = _CallerOnly()
    try:
        importlib.import_module(HANDLER_MODULE)
    finally:
        module.inspect = inspect


class _CallerOnly:
    """`inspect` as `create_deprecated_class` uses it: `stack()[1][0]` is its caller's frame,
    and `getmodule(frame)` that frame's module. Anything else goes to the real module."""

    @staticmethod
    def stack() -> list[tuple[FrameType]]:
        caller = sys._getframe(1)  # create_deprecated_class
        assert caller.f_back is not None
        return [(caller,), (caller.f_back,)]

    @staticmethod
    def getmodule(frame: FrameType) -> ModuleType | None:
        return sys.modules.get(frame.f_globals.get("__name__", ""))

    def __getattr__(self, name: str) -> Any:
        return getattr(inspect, name)
