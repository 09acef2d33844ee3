"""Regenerate the "expected" part of every golden extraction case in this folder.

Run from the repository root:  python tests/data/extract/refresh.py [NAME ...]

A new case is an HTML file (the bytes as a server would send them); this script writes its JSON
with an "input" section to fill in (url, content_type, language_hint) and an empty
"must_not_contain" list for the sidebar, comment and footer strings that must never reach the
text. Both sections are kept as written; only "expected" is recomputed. It refuses to record a
result whose text contains one of the forbidden strings. Review `git diff` before committing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))  # a script, not an installed module

from tests.test_extract import CASES, CASES_DIR, load_case, observe


def refresh(name: str) -> bool:
    """Record one case; False if a forbidden string leaked into its text."""
    case = load_case(name)
    case.setdefault("must_not_contain", [])
    expected, article = observe(name)
    leaked = [s for s in case["must_not_contain"] if article is not None and s in article.text]
    if leaked:
        print(f"{name}: NOT recorded, boilerplate in the text: {leaked}")
        return False
    changed = case.get("expected") != expected
    case["expected"] = expected
    path = CASES_DIR / f"{name}.json"
    path.write_text(json.dumps(case, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{name}: {'updated' if changed else 'unchanged'}")
    return True


def main(names: list[str]) -> int:
    unknown = sorted(set(names) - set(CASES))
    if unknown:
        print(f"no such case: {unknown}; cases are {CASES}")
        return 2
    results = [refresh(name) for name in names or CASES]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
