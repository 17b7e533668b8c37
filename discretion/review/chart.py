"""The replay chart: how the recommended amounts move from one edition to the other.

Two panels, drawn with matplotlib's object API (no pyplot, no global backend: safe inside the
service): the distribution of all non-zero amount changes, and one box per violation type (the
types with the most changes first). Amounts are yuan on a symmetric log axis (a change of 1,000
yuan and one of 1,000,000 yuan both stay readable). Labels are Chinese, in a CJK font
('WenQuanYi Zen Hei', Debian's fonts-wqy-zenhei, or another CJK font found); SVG text is drawn as
paths, so the chart shows the same in any browser.
"""

from __future__ import annotations

import io
import logging
import math
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ..errors import DiscretionError
from .replay import Summary

CJK_FONTS = ("WenQuanYi Zen Hei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei")
FORMATS = ("svg", "png")
MAX_TYPES = 15  # boxes in the per-type panel
MAX_POINTS = 400  # points drawn per violation type (evenly spaced in sorted order beyond that)
LINTHRESH = 1000  # yuan: the symlog axis is linear within ±1,000 yuan


def cjk_font() -> str:
    """The first CJK font matplotlib finds. matplotlib keeps a cache of the system's fonts: a font
    installed after the cache was written (``apt-get install fonts-wqy-zenhei`` after a first chart)
    is found once the cache is rebuilt, which is done once here before giving up."""
    from matplotlib import font_manager

    for rebuilt in (False, True):
        if rebuilt:  # in place: the backends hold the manager itself
            vars(font_manager.fontManager).update(vars(font_manager._load_fontmanager(try_read_cache=False)))
        for name in CJK_FONTS:
            try:
                font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=False)
                return name
            except ValueError:
                continue
    raise DiscretionError(
        message="未找到中文字体，无法绘制图表（请安装 fonts-wqy-zenhei）", code="chart_font_missing", field="chart"
    )


@contextmanager
def quiet() -> Iterator[None]:
    """matplotlib logs a note when the CJK font has no 'normal' weight: not for the user."""
    log = logging.getLogger("matplotlib.font_manager")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def rc(font: str, salt: str) -> dict[str, Any]:
    """The matplotlib settings of every chart: the CJK font first, ASCII minus signs, SVG text drawn
    as paths (the chart shows the same in any browser, with no font sent) and stable SVG ids."""
    from matplotlib import rcParams

    return {
        "font.family": "sans-serif",
        "font.sans-serif": [font, *rcParams["font.sans-serif"]],
        "axes.unicode_minus": False,
        "svg.fonttype": "path",
        "svg.hashsalt": salt,
        "font.size": 9,
    }


def _yuan_tick(v: float, _pos: Any = None) -> str:
    if v == 0:
        return "0"
    sign = "-" if v < 0 else "+"
    a = abs(v)
    if a >= 10000:
        w = a / 10000
        text = f"{w:.0f}万" if w >= 10 or w == int(w) else f"{w:.1f}万"
    else:
        text = f"{a:.0f}"
    return sign + text


def _edges(lo: float, hi: float) -> list[float]:
    """Histogram bin edges for a symlog axis: log-spaced outside ±LINTHRESH, linear inside."""
    def side(limit: float) -> list[float]:
        top = max(limit, LINTHRESH * 10)
        n = max(2, int(math.ceil(math.log10(top / LINTHRESH) * 4)))
        return [LINTHRESH * (top / LINTHRESH) ** (i / n) for i in range(n + 1)]

    pos = side(hi) if hi > 0 else []
    neg = side(-lo) if lo < 0 else []
    inner = [-LINTHRESH + i * LINTHRESH / 2 for i in range(5)]  # -1000, -500, 0, 500, 1000
    edges = sorted(set([-x for x in neg] + inner + pos))
    return edges


def render(summary: Summary, fmt: str = "svg") -> bytes:
    """The chart of a replay as SVG or PNG bytes."""
    if fmt not in FORMATS:
        raise DiscretionError(message=f"图表格式须为 svg 或 png：{fmt}", code="invalid_input", field="chart")
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    with quiet():
        font = cjk_font()
        types = [s for s in summary.ordered() if s.deltas][:MAX_TYPES]
        height = 3.2 + 0.42 * max(len(types), 2)
        import matplotlib

        with matplotlib.rc_context(rc(font, "discretion-replay")):  # type: ignore[arg-type]
            fig = Figure(figsize=(10, height), dpi=100, layout="constrained")
            f, t = summary.from_edition, summary.to_edition
            changed = summary.total.changed
            fig.suptitle(
                f"影响回放：{f['key']} → {t['key']}（{summary.assessed:,} 件案件，{changed:,} 件有变化）",
                fontsize=12,
            )
            grid = fig.add_gridspec(2, 1, height_ratios=[2.2, max(len(types), 2) * 0.42 + 0.8])
            ax1 = fig.add_subplot(grid[0])
            ax2 = fig.add_subplot(grid[1])
            all_deltas = summary.total.deltas
            if not all_deltas:
                for ax in (ax1, ax2):
                    ax.set_axis_off()
                ax1.text(0.5, 0.5, "两个版本对这些案件的建议罚款没有差别", ha="center", va="center", fontsize=12, transform=ax1.transAxes)
            else:
                lo, hi = float(min(all_deltas)), float(max(all_deltas))
                ax1.hist([float(d) for d in all_deltas], bins=_edges(lo, hi), color="#0b6e4f", edgecolor="white", linewidth=0.5)
                ticks = _ticks(lo, hi)
                ax1.set_xscale("symlog", linthresh=LINTHRESH)
                ax1.set_xticks(ticks)
                ax1.xaxis.set_major_formatter(FuncFormatter(_yuan_tick))
                ax1.axvline(0, color="#5b6877", linewidth=0.8)
                ax1.set_title(
                    f"建议罚款变化的分布（{len(all_deltas):,} 件；上调 {summary.total.up:,}，下调 {summary.total.down:,}）",
                    loc="left",
                )
                ax1.set_xlabel("新版本减原版本（元，对称对数刻度）")
                ax1.set_ylabel("案件数")
                for i, s in enumerate(reversed(types)):
                    xs = _sample(sorted(s.deltas))
                    n = len(xs)
                    ys = [i + ((k * 0.618034) % 1 - 0.5) * 0.6 for k in range(n)]  # even, deterministic jitter
                    colors = ["#b3261e" if x > 0 else "#0b6e4f" for x in xs]
                    ax2.scatter([float(x) for x in xs], ys, s=6, c=colors, alpha=0.45, linewidths=0)
                    med = s.median
                    if med is not None:
                        ax2.plot([float(med)] * 2, [i - 0.38, i + 0.38], color="#1d2733", linewidth=1.6)
                ax2.set_yticks(range(len(types)), [_short(s.title) + f"（{len(s.deltas)}）" for s in reversed(types)])
                ax2.set_ylim(-0.6, len(types) - 0.4)
                ax2.set_xscale("symlog", linthresh=LINTHRESH)
                ax2.set_xticks(ticks)
                ax2.set_xlim(ax1.get_xlim())
                ax2.xaxis.set_major_formatter(FuncFormatter(_yuan_tick))
                ax2.grid(axis="x", color="#d7dde4", linewidth=0.6)
                ax2.axvline(0, color="#5b6877", linewidth=0.8)
                more = len([s for s in summary.by_violation.values() if s.deltas]) - len(types)
                ax2.set_title(
                    "按违法行为类型（括号内为件数）：每点一件，红为上调，绿为下调，竖线为中位数"
                    + (f"；另有 {more} 类未列出" if more > 0 else ""),
                    loc="left",
                )
                ax2.set_xlabel("新版本减原版本（元，对称对数刻度）")
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()


def _ticks(lo: float, hi: float) -> list[float]:
    """0 and the powers of ten from LINTHRESH out to the data, on each side that has data."""
    out = [0.0]
    for limit, sign in ((hi, 1), (-lo, -1)):
        v = float(LINTHRESH)
        while limit > 0:
            out.append(sign * v)
            if v >= limit:
                break
            v *= 10
    return sorted(out)


def _sample(xs: list[int], limit: int = MAX_POINTS) -> list[int]:
    """At most ``limit`` of the sorted values, evenly spaced (keeps the shape of the distribution)."""
    if len(xs) <= limit:
        return xs
    step = (len(xs) - 1) / (limit - 1)
    return [xs[round(i * step)] for i in range(limit)]


def _short(title: str, n: int = 18) -> str:
    return title if len(title) <= n else title[: n - 1] + "…"


def save(summary: Summary, path: str | Path) -> str:
    """Write the chart to ``path`` (``.svg`` or ``.png``); returns the format."""
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise DiscretionError(message=f"图表文件须为 .svg 或 .png：{path}", code="invalid_input", field="chart")
    Path(path).write_bytes(render(summary, fmt))
    return fmt


def inline_svg(summary: Summary) -> str:
    """The SVG chart as markup to embed in a page (without the XML prolog)."""
    return embeddable(render(summary, "svg").decode("utf-8"))


_STYLE_ATTR = re.compile(r' style="([^"]*)"')
_STYLE_ELEMENT = re.compile(r"<style[^>]*>.*?</style>", re.S)


def embeddable(svg: str) -> str:
    """matplotlib's SVG as markup for a page whose Content-Security-Policy allows no inline style
    (api/security.py): without the XML prolog, each ``style="fill: …; stroke: …"`` written as the
    presentation attributes it holds (``fill="…" stroke="…"``: attributes, not styles, so the
    policy does not drop them and paint everything black), and the ``<style>`` element's defaults
    (round joins, butt caps) as attributes of the root element."""
    def attrs(m: re.Match[str]) -> str:
        pairs = (part.split(":", 1) for part in m.group(1).split(";") if ":" in part)
        return "".join(f' {k.strip()}="{v.strip()}"' for k, v in pairs)

    svg = _STYLE_ELEMENT.sub("", svg[svg.index("<svg"):], count=1)
    svg = svg.replace("<svg ", '<svg stroke-linejoin="round" stroke-linecap="butt" ', 1)
    return _STYLE_ATTR.sub(attrs, svg)
