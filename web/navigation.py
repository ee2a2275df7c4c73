"""What a search page offers to narrow the results: facet links, filter chips, the chart.

Every link keeps the page's query, filters and order and changes one thing (adds a facet's
filter, removes a chip's); :func:`month_chart` draws the matches per month as SVG on the
server (no script, no inline style: the Content-Security-Policy forbids both), its bars sized
by attributes and coloured by the stylesheet.
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup, escape

from search.models import SearchResult

from web.markup import section_label

#: Headings of the facets in the sidebar.
FACET_TITLES = {"month": "月份", "publisher": "来源", "org": "单位", "speaker": "发言人",
                "section": "段落类型"}
#: How an active filter is named on its chip.
FILTER_LABELS = {"section": "段落", "speaker": "发言人", "doc": "文档", "from": "起始日期",
                 "to": "截止日期", "publisher": "来源", "org": "单位"}
#: The orders a search page offers, with their labels.
SORT_LABELS = (("relevance", "按相关度"), ("newest", "最新在前"), ("oldest", "最早在前"))

#: ``url(**state)``: the search page with these URL parameters.
UrlFor = Callable[..., str]


@dataclass(frozen=True)
class FacetLink:
    """One value of a facet: its label, count, the page filtered by it, and whether that
    filter is the one in force."""

    label: str
    count: int
    url: str
    active: bool


@dataclass(frozen=True)
class Facet:
    name: str
    title: str
    links: list[FacetLink]
    distinct: int  # distinct values among the matches (more than listed when over 10)


def month_days(month: str) -> tuple[str, str]:
    """The first and last days of ``YYYY-MM``, as ISO dates (what the date inputs show)."""
    year, number = int(month[:4]), int(month[5:7])
    last = calendar.monthrange(year, number)[1]
    return f"{month}-01", f"{month}-{last:02d}"


def facet_filter(name: str, value: str) -> dict[str, str]:
    """The URL parameters that filter by one facet value."""
    if name == "month":
        first, last = month_days(value)
        return {"from": first, "to": last}
    return {name: value}


def facets(result: SearchResult, state: dict[str, str], url: UrlFor) -> list[Facet]:
    """The sidebar: each facet with values, each value a link adding its filter to ``state``
    (the page's parameters but ``q`` and ``page``)."""
    out = []
    for name, values in result.facets.items():
        if not values:
            continue
        links = []
        for value, count in values:
            wanted = facet_filter(name, value)
            active = all(state.get(k) == v for k, v in wanted.items())
            label = section_label(value) if name == "section" else value
            links.append(FacetLink(label, count, url(**{**state, **wanted}), active))
        out.append(Facet(name, FACET_TITLES.get(name, name), links,
                         result.facet_counts.get(name, len(values))))
    return out


def chips(filters: dict[str, str], state: dict[str, str], url: UrlFor
          ) -> list[tuple[str, str, str]]:
    """``(label, value, url without it)`` of each active filter."""
    out = []
    for name, value in filters.items():
        shown = section_label(value) if name == "section" else value
        rest = {k: v for k, v in state.items() if k != name}
        out.append((FILTER_LABELS.get(name, name), shown, url(**rest)))
    return out


def _months_between(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    end = (int(last[:4]), int(last[5:7]))
    out = []
    while (year, month) <= end:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


#: The chart's drawing area (SVG user units; the stylesheet scales it to the page's width).
CHART_WIDTH, CHART_HEIGHT, CHART_AXIS = 640, 120, 18
#: Room left of the bars for the peak's count, and the widest a bar gets (a few months must
#: not make slabs of the whole width).
CHART_LEFT, MAX_BAR = 28, 40
#: Most bars (and table rows) of the chart: months, else years.
MAX_CHART_BARS = 120


@dataclass(frozen=True)
class MonthChart:
    svg: Markup  # the <svg> element
    rows: list[tuple[str, int, str | None]]  # (month, matches, its filter's url): as text
    summary: str
    by_year: bool = False  # a bar per year (the dates span more than MAX_CHART_BARS months)


def month_chart(result: SearchResult, state: dict[str, str], url: UrlFor) -> MonthChart | None:
    """A bar per month from the first to the last month with matches (months without any
    included, at zero), or None when no match has a date. Past :data:`MAX_CHART_BARS` months
    (a release dated long ago among recent ones) a bar per year instead, and past as many
    years only the years with matches: the page stays small whatever the dates."""
    if not result.timeline:
        return None
    counts = dict(result.timeline)
    periods = _months_between(result.timeline[0][0], result.timeline[-1][0])
    by_year = len(periods) > MAX_CHART_BARS
    if by_year:
        years: Counter[str] = Counter()
        for month, n in counts.items():
            years[month[:4]] += n
        counts = dict(years)
        first, last_year = int(periods[0][:4]), int(periods[-1][:4])
        periods = ([f"{y:04d}" for y in range(first, last_year + 1)]
                   if last_year - first < MAX_CHART_BARS else sorted(counts))
    unit, title = ("年", "每年匹配段落数") if by_year else ("个月", "每月匹配段落数")
    peak = max(counts.values())
    step = (CHART_WIDTH - CHART_LEFT) / len(periods)
    gap = min(2.0, step / 4)
    plot = CHART_HEIGHT - CHART_AXIS
    bars = []
    for i, period in enumerate(periods):
        n = counts.get(period, 0)
        height = plot * n / peak if n else 0
        width = min(max(step - gap, 0.5), MAX_BAR)
        x = CHART_LEFT + i * step + (step - width) / 2
        bars.append(f'<rect class="bar" x="{x:.2f}" y="{plot - height:.2f}" '
                    f'width="{width:.2f}" height="{height:.2f}">'
                    f'<title>{escape(period)}：{n} 段</title></rect>')
    dated = sum(counts.values())
    summary = (f"{len(periods)} {unit}中 {dated} 个匹配段落的分布，从 {periods[0]} 到 "
               f"{periods[-1]}；最多的{'年份' if by_year else '月份'}有 {peak} 段。")
    last = (f'<text class="label end" x="{CHART_WIDTH}" y="{CHART_HEIGHT - 4}">'
            f'{escape(periods[-1])}</text>') if len(periods) > 1 else ""
    axis = (f'<line class="axis" x1="{CHART_LEFT}" y1="{plot}" x2="{CHART_WIDTH}" y2="{plot}">'
            f'</line><text class="label" x="{CHART_LEFT}" y="{CHART_HEIGHT - 4}">'
            f'{escape(periods[0])}</text>{last}'
            f'<text class="label end" x="{CHART_LEFT - 4}" y="10">{peak}</text>')
    svg = Markup(
        f'<svg class="month-chart" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img" '
        f'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-title">{title}</title>'
        f'<desc id="chart-desc">{escape(summary)}</desc>'
        f'{"".join(bars)}{axis}</svg>')

    def period_filter(period: str) -> dict[str, str]:
        return {"from": period, "to": period} if by_year else facet_filter("month", period)

    rows = [(p, counts.get(p, 0), url(**{**state, **period_filter(p)}) if counts.get(p) else None)
            for p in periods]
    return MonthChart(svg=svg, rows=rows, summary=summary, by_year=by_year)
