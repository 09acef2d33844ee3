"""Imported by the extraction workers' forkserver, and only there: builds their shared state.

`crawler.workers.start_forkserver` names the crawl's rules file in `PRELOAD_RULES_VARIABLE`
when it starts the forkserver; importing this module there compiles those rules and warms the
extraction once (`crawler.processing.preload`), before any worker is forked from it. Without
the variable it does nothing. It never raises: the forkserver would die with it, and a worker
that finds nothing preloaded simply builds its own state (and reports a bad rules file).
"""

from __future__ import annotations

import gc
import logging
import os

from crawler.workers import PRELOAD_RULES_VARIABLE

logger = logging.getLogger(__name__)


def _preload() -> None:
    rules_path = os.environ.get(PRELOAD_RULES_VARIABLE)
    if not rules_path:
        return
    from crawler import processing
    from crawler.errors import ConfigError

    try:
        processing.preload(rules_path)
    except (ConfigError, OSError):
        return  # a bad or missing rules file: the crawl reports it itself, and stops
    except Exception:  # see the module docstring
        # Logging is not configured in the forkserver: Python's last-resort handler prints
        # this on the crawl's stderr. The crawl goes on, its workers start cold.
        logger.warning("Extraction workers start without preloaded rules", exc_info=True)
        return
    # Left out of the workers' garbage collections too: they would walk these objects again.
    gc.freeze()


_preload()
