"""discretion.review.chart: the CJK font is found even when matplotlib's font cache predates it."""

from __future__ import annotations

import pytest
from matplotlib import font_manager

from discretion.review import chart


def test_a_font_cache_written_before_the_cjk_font_was_installed_is_rebuilt(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a cached font list that lacks every CJK font (as after installing fonts-wqy-zenhei once a
    chart had been drawn), the chart still finds its font: the cache is rebuilt once, in place."""
    fm = font_manager.fontManager
    monkeypatch.setattr(fm, "ttflist", [f for f in fm.ttflist if f.name not in chart.CJK_FONTS])
    font_manager.FontManager._findfont_cached.cache_clear()  # a chart drawn earlier in this process found it there
    calls = []
    real = font_manager._load_fontmanager

    def load(*, try_read_cache: bool = True) -> font_manager.FontManager:
        calls.append(try_read_cache)
        return real(try_read_cache=try_read_cache)

    monkeypatch.setattr(font_manager, "_load_fontmanager", load)
    assert chart.cjk_font() in chart.CJK_FONTS
    assert calls == [False]
    assert font_manager.fontManager is fm
