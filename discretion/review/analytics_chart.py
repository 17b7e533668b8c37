"""The consistency analytics' charts (同案同罚), as SVG markup to embed in a page: box plots of where
decided amounts lie in the statutory range by violation type, of each handler's departures from the
bureau's median of the same type, and a timeline of the decisions outside the recommended band.

Drawn with matplotlib's object API (no pyplot) in the CJK font :func:`~discretion.review.chart.cjk_font`
finds (WenQuanYi Zen Hei from fonts-wqy-zenhei first; 422 ``chart_font_missing`` when there is
none), text as paths. The boxes are drawn from the quantiles the report computed (the box from the
25th to the 75th percentile, the line at the median, the whiskers at the 5th and 95th): no record
is read here. A chart is a function of its figures alone, so the last ones drawn are kept (:func:`clear`
forgets them) and a page asked again with unchanged figures does not draw them again.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from .chart import cjk_font, embeddable, quiet, rc

GREEN, RED, GREY, INK, BLUE = "#0b6e4f", "#b3261e", "#5b6877", "#1d2733", "#2f5d8a"
MAX_BOXES = 25  # rows of a box plot (the rest are counted in its title)
WIDTH = 10  # inches
CACHED = 48  # charts kept, drawn from the same figures (a page asked again, its exports, its charts alone)
QUANTILES = ("p5", "p25", "median", "p75", "p95")


@dataclass(frozen=True)
class Box:
    """One row of a box plot: its label, the quantiles (p5, p25, median, p75, p95; percent or
    points, None without data), the cases behind it, whether it is marked (a flagged handler: red)
    and whether it is the focused handler's own (blue)."""

    label: str
    q: tuple[Decimal | None, Decimal | None, Decimal | None, Decimal | None, Decimal | None]
    cases: int
    marked: bool = False
    mine: bool = False

    @classmethod
    def of(cls, label: str, quantiles: Mapping[str, Any], cases: int, marked: bool = False, mine: bool = False) -> Box:
        """A box from quantiles by name (numbers or None)."""
        q = tuple(None if quantiles.get(k) is None else Decimal(str(quantiles[k])) for k in QUANTILES)
        return cls(label, q, cases, marked, mine)  # type: ignore[arg-type]

    @property
    def complete(self) -> bool:
        return all(v is not None for v in self.q)


def _svg(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return embeddable(buf.getvalue().decode("utf-8"))


@contextmanager
def _figure(height: float, salt: str, left: float = 0.08) -> Iterator[Any]:
    """A figure 10 inches wide in the charts' settings (:func:`~discretion.review.chart.rc`), with
    fixed margins (``left``: the share of the width kept for the row labels): a layout engine
    would draw the figure twice more."""
    import matplotlib
    from matplotlib.figure import Figure

    with quiet(), matplotlib.rc_context(rc(cjk_font(), salt)):  # type: ignore[arg-type]
        fig = Figure(figsize=(WIDTH, height), dpi=100)
        fig.subplots_adjust(left=left, right=0.96, top=1 - 0.55 / height, bottom=0.55 / height)
        yield fig


def _label_width(labels: Sequence[str]) -> float:
    """The share of the figure's width the longest row label needs (a CJK character ≈ 0.13 inch at 9 pt)."""
    longest = max((sum(2 if ord(ch) > 0x2E80 else 1 for ch in text) for text in labels), default=0)
    return min(0.5, (0.3 + 0.066 * longest) / WIDTH)


def _empty(ax: Any, text: str) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=12, transform=ax.transAxes)


def boxes(rows: Sequence[Box], title: str, xlabel: str, *, reference: Box | None = None,
          lines: Sequence[float] = (), salt: str = "discretion-consistency") -> str:
    """A horizontal box plot (see :func:`_boxes`); the same chart asked again is not drawn again."""
    return _boxes(tuple(rows), title, xlabel, reference, tuple(lines), salt)


@lru_cache(maxsize=CACHED)
def _boxes(rows: tuple[Box, ...], title: str, xlabel: str, reference: Box | None, lines: tuple[float, ...], salt: str) -> str:
    """A horizontal box plot, one row per box (the first at the top), with ``reference`` (the
    bureau's) above them in grey and vertical ``lines`` (0 solid, the thresholds dashed). Drawn as
    one bar collection and three line collections, whatever the number of rows."""
    drawn = [b for b in rows[:MAX_BOXES] if b.complete]
    every = ([reference] if reference is not None and reference.complete else []) + drawn
    labels = [f"{b.label}（{b.cases:,}）" for b in every]
    more = len(rows) - len(drawn)
    with _figure(1.3 + 0.3 * max(len(every), 3), salt, _label_width(labels)) as fig:
        ax = fig.add_subplot()
        fig.suptitle(title + (f"（另有 {more} 项件数不足或未列出）" if more > 0 else ""), fontsize=11)
        if not every:
            _empty(ax, "所选范围内没有可以计算位置的已决定案件")
            return _svg(fig)
        ys = list(range(len(every) - 1, -1, -1))  # the first row at the top
        q = [dict(zip(QUANTILES, (float(v) for v in b.q if v is not None))) for b in every]
        colours = [GREY if b is reference else RED if b.marked else BLUE if b.mine else GREEN for b in every]
        ax.barh(ys, [x["p75"] - x["p25"] for x in q], left=[x["p25"] for x in q], height=0.6, color=colours,
                alpha=0.5, edgecolor=colours, linewidth=0.8)
        ax.hlines(ys + ys, [x["p5"] for x in q] + [x["p75"] for x in q], [x["p25"] for x in q] + [x["p95"] for x in q],
                  color=GREY, linewidth=0.9)
        ax.vlines([x["p5"] for x in q] + [x["p95"] for x in q], [y - 0.18 for y in ys + ys], [y + 0.18 for y in ys + ys],
                  color=GREY, linewidth=0.9)
        ax.vlines([x["median"] for x in q], [y - 0.3 for y in ys], [y + 0.3 for y in ys], color=INK, linewidth=1.8)
        ax.set_yticks(ys, labels)
        ax.set_ylim(-0.7, len(every) - 0.3)
        for x in lines:
            ax.axvline(x, color=GREY, linewidth=0.8, linestyle="-" if x == 0 else "--")
        ax.grid(axis="x", color="#d7dde4", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.set_xlabel(xlabel)
        return _svg(fig)


@dataclass(frozen=True)
class Month:
    """One month of the timeline: its label, the decided cases, those below and above the band, and
    (for a handler's own view) the handler's outside-band rate that month."""

    label: str
    cases: int
    below: int
    above: int
    mine_rate: Decimal | None = None


def timeline(months: Sequence[Month], title: str, *, salt: str = "discretion-consistency-timeline") -> str:
    """The timeline chart (see :func:`_timeline`); the same chart asked again is not drawn again."""
    return _timeline(tuple(months), title, salt)


@lru_cache(maxsize=CACHED)
def _timeline(months: tuple[Month, ...], title: str, salt: str) -> str:
    """Monthly bars of the decisions below (green) and above (red) the band, and the outside-band
    rate of all decided cases (and of the handler's own, when given) on the right-hand axis."""
    with _figure(3.6, salt, left=0.07) as fig:
        ax = fig.add_subplot()
        fig.suptitle(title, fontsize=11)
        if not months:
            _empty(ax, "所选范围内没有已决定的案件")
            return _svg(fig)
        xs = list(range(len(months)))
        below = [m.below for m in months]
        ax.bar(xs, below, color=GREEN, label="低于建议档次")
        ax.bar(xs, [m.above for m in months], bottom=below, color=RED, label="高于建议档次")
        ax.set_ylabel("档次外决定（件）")
        step = max(1, len(months) // 12)
        ax.set_xticks(xs[::step], [m.label for m in months][::step])
        right = ax.twinx()
        rates = [100 * (m.below + m.above) / m.cases if m.cases else 0.0 for m in months]
        right.plot(xs, rates, color=INK, linewidth=1.2, marker="." if len(xs) < 40 else None, label="档次外比例（全局）")
        mine = [float(m.mine_rate) for m in months if m.mine_rate is not None]
        if mine:
            right.plot(xs, [float("nan") if m.mine_rate is None else float(m.mine_rate) for m in months], color=BLUE,
                       linewidth=1.2, linestyle="--", label="档次外比例（本人）")
        right.set_ylabel("档次外比例（%）")
        fig.subplots_adjust(right=0.93)
        right.set_ylim(0, max(10.0, *rates, *mine) * 1.15)
        handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
        ax.legend(handles=handles, loc="upper left", fontsize=8, frameon=False, ncols=4)
        return _svg(fig)


def clear() -> None:
    """Forget the charts kept (the benchmark measures drawing them)."""
    _boxes.cache_clear()
    _timeline.cache_clear()
