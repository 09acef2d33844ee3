"""Imported by the extraction workers' forkserver, and only there: builds their shared state.

`crawler.workers.start_forkserver` names the crawl's rules file in `PRELOAD_RULES_VARIABLE`
when it starts the forkserver; importing this module there compiles those rules and warms the
extraction once (`crawler.processing.preload`), before any worker is forked from it. It also
stands in for the crawl's main script named in `PRELOAD_MAIN_VARIABLE`, which multiprocessing
would otherwise run again in each worker (`_stand_in_for_main_script`). Both variables are
removed once read: the workers, and any process they start, do not inherit them. What was
loaded is then frozen out of the workers' garbage collections. It never raises: the forkserver
would die with it, and a worker that finds nothing preloaded simply builds its own state (and
reports a bad rules file).
"""

from __future__ import annotations

import logging
import os
import sys
import types

from crawler.collection import collection_paused
from crawler.workers import PRELOAD_MAIN_VARIABLE, PRELOAD_RULES_VARIABLE

logger = logging.getLogger(__name__)


def _preload() -> None:
    main_path = os.environ.pop(PRELOAD_MAIN_VARIABLE, None)
    rules_path = os.environ.pop(PRELOAD_RULES_VARIABLE, None)
    with collection_paused():
        import crawler.processing  # noqa: F401 (what the workers run: trafilatura and all)

        _stand_in_for_main_script(main_path)
        if rules_path:
            _preload_rules(rules_path)
    # Frozen as the pause ends: left out of the workers' garbage collections, which would walk
    # these objects again.


def _stand_in_for_main_script(path: str | None) -> None:
    """Make the workers forked from here take the crawl's main script as already run.

    Multiprocessing runs the parent's main script again in every child ("__mp_main__"), so that
    what the parent defined there can be unpickled, unless the child's `__main__` already has
    the script's `__file__`. The workers are sent nothing from the script, only
    `crawler.workers.process_in_worker` and its `PageJob` (a function defined in a script could
    not be sent to them). Running the `newswatch` script here imported the whole CLI (click,
    pydantic, the config: 0.12-0.16 s) on the way to the first extracted page; an empty module
    named "__mp_main__" with the script's `__file__` does instead.
    """
    if not path:
        return
    stand_in = types.ModuleType("__mp_main__")
    stand_in.__file__ = path
    sys.modules["__main__"] = sys.modules["__mp_main__"] = stand_in


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
