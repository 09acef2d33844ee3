"""Imported by the extraction workers' forkserver, and only there: builds their shared state.

`crawler.workers.start_forkserver` names the crawl's rules file in `PRELOAD_RULES_VARIABLE`
when it starts the forkserver; importing this module there compiles those rules and warms the
extraction once (`crawler.processing.preload`), before any worker is forked from it. It also runs
the crawl's main script named in `PRELOAD_MAIN_VARIABLE`, as multiprocessing would in each
worker. Both variables are removed once read: the workers, and any process they start, do not
inherit them. What was loaded is then frozen out of the workers' garbage collections. It never
raises: the forkserver would die with it, and a worker that finds nothing preloaded simply
builds its own state (and reports a bad rules file).
"""

from __future__ import annotations

import gc
import logging
import os
from multiprocessing import process, spawn

from crawler.collection import collection_paused
from crawler.workers import PRELOAD_MAIN_VARIABLE, PRELOAD_RULES_VARIABLE

logger = logging.getLogger(__name__)


def _preload() -> None:
    main_path = os.environ.pop(PRELOAD_MAIN_VARIABLE, None)
    rules_path = os.environ.pop(PRELOAD_RULES_VARIABLE, None)
    with collection_paused():
        import crawler.processing  # noqa: F401 (what the workers run: trafilatura and all)

        _run_main_script(main_path)
        if rules_path:
            _preload_rules(rules_path)
    # Left out of the workers' garbage collections: they would walk these objects again.
    gc.freeze()


def _run_main_script(path: str | None) -> None:
    """Run the main script as multiprocessing runs it in a child ("__mp_main__"): the workers
    forked from here then find it done (same `__file__`) and skip it."""
    if not path:
        return
    # As multiprocessing marks a child running it: a script without an `if __name__ ==
    # "__main__"` guard that starts processes then fails at once (in its bootstrapping check)
    # instead of starting another forkserver, which would run it again.
    process.current_process()._inheriting = True  # type: ignore[attr-defined]
    try:
        spawn.import_main_path(path)
    except BaseException:  # see the module docstring (a script may even call sys.exit)
        # Logging is not configured in the forkserver: Python's last-resort handler prints
        # this on the crawl's stderr. Each worker then runs the script itself, as before.
        logger.warning("The extraction workers' forkserver could not run %s", path, exc_info=True)
    finally:
        del process.current_process()._inheriting  # type: ignore[attr-defined]


def _preload_rules(rules_path: str) -> None:
    from crawler import processing
    from crawler.errors import ConfigError

    try:
        processing.preload(rules_path)
    except (ConfigError, OSError):
        return  # a bad or missing rules file: the crawl reports it itself, and stops
    except Exception:  # see the module docstring
        # The crawl goes on, its workers start cold.
        logger.warning("Extraction workers start without preloaded rules", exc_info=True)


_preload()
