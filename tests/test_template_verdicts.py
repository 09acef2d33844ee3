"""Tests for crawler.template_verdicts: repeated attribute values are tested once."""

from __future__ import annotations

from crawler.template_verdicts import LONGEST, template_verdicts


def test_a_repeated_value_is_tested_once_and_a_huge_one_every_time() -> None:
    seen: list[tuple[str | None, ...]] = []

    @template_verdicts
    def is_sidebar(id_: str | None, class_: str | None) -> bool:
        seen.append((id_, class_))
        return "sidebar" in f"{id_} {class_}"

    assert is_sidebar("secondary", "widget-area sidebar") is True
    assert is_sidebar("secondary", "widget-area sidebar") is True
    assert is_sidebar(None, "entry-content") is False
    huge = "sidebar " * (LONGEST // 8 + 1)
    assert is_sidebar(None, huge) is True
    assert is_sidebar(None, huge) is True
    assert seen == [
        ("secondary", "widget-area sidebar"),
        (None, "entry-content"),
        (None, huge),
        (None, huge),
    ]
