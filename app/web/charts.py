"""Timelines drawn on the server: counts per month or year in, bars and labels out (templates/timeline.html).

The geometry leaves here as SVG path data (numbers only), one `d` per show's row and per drawing's
bars, so that the template writes a few attributes where it wrote one element per month: a common
word's search draws about 120 months, four times over (two drawings, the shows' rows).
"""

import calendar
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from app.french_dates import french_month
from app.web.templating import format_number, plural

Unit = tuple[str, str]  # singular, plural: ("passage", "passages")
Link = Callable[[date, date], str]  # the first and last day a bar covers → the URL it opens

MIN_BAR = 2.0  # a month with one passage among thousands still shows
ROW_HEIGHT = 24  # one show's row of the small multiples, in its own viewBox units
SHOWS_SHOWN = 4  # shows drawn one row each, the most passages first; the others are told in words
YEARLY_AFTER = 36  # a span of more months than this is drawn per year on a guest's page


@dataclass(frozen=True, slots=True)
class Layout:
    """A drawing's viewBox and type size. An SVG scales as a whole with its width (100% of its
    column), text included: one drawing for wide screens and one for phones keeps the labels at
    about 12 px on both; CSS shows the one that fits (templates/timeline.html)."""

    width: int
    plot: int  # height of the tallest bar
    font: int  # axis labels, in viewBox units
    label_width: int  # room an axis label takes ("sept. 2024"), so that no two overlap

    @property
    def top(self) -> int:
        return self.font + 8  # room above the tallest bar for its number

    @property
    def baseline(self) -> int:
        return self.top + self.plot

    @property
    def height(self) -> int:
        return self.baseline + self.font + 10


WIDE = Layout(width=960, plot=130, font=14, label_width=84)  # drawn at 700-1100 px
NARROW = Layout(width=400, plot=140, font=14, label_width=84)  # drawn at 300-560 px


@dataclass(frozen=True, slots=True)
class Period:
    """One bar's worth of time: a month or a year, with what it counts."""

    key: str  # "2024-03" or "2024"
    label: str  # "mars 2024", "2024"
    count: int
    first: date
    last: date
    href: str | None = None  # the same list within these dates


@dataclass(frozen=True, slots=True)
class Bar:
    period: Period
    name: str  # "mars 2024 : 12 passages": the link's accessible name and the bar's title
    x: float
    y: float
    width: float
    height: float
    slot_x: float  # a link is as wide as the bar's slot (gaps included) and as tall as the plot
    slot_width: float
    path: str = ""  # the bar as path data (bar_path), none when it counts nothing

    @property
    def hit_path(self) -> str:
        """The link's target: the bar's whole slot, from the top of the plot to the axis."""
        return bar_path(self.slot_x, 0, self.slot_width, self.y + self.height)

    @property
    def count(self) -> int:
        return self.period.count

    @property
    def href(self) -> str | None:
        return self.period.href

    @property
    def centre(self) -> float:
        return round(self.x + self.width / 2, 2)


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True, slots=True)
class Drawing:
    layout: Layout
    bars: list[Bar]  # every period's, the empty ones at zero height
    ticks: list[Tick]
    peak: Bar | None  # the tallest bar, whose number is written above it
    # the bars drawn (the periods that count something), as the template writes them one by one, each
    # a link or a tooltip: (link or None, name, the link's target as path data, the bar's)
    marks: list[tuple[str | None, str, str, str]] = field(default_factory=list)
    path: str = ""  # every bar drawn as one path's data, for a drawing whose bars are neither links nor titled
    peak_text: str = ""  # the peak's count, as the figure above it writes it ("1 234")

    @property
    def tick_y(self) -> int:
        return self.layout.height - 6

    @property
    def width(self) -> int:
        return self.layout.width

    @property
    def height(self) -> int:
        return self.layout.height

    @property
    def baseline(self) -> int:
        return self.layout.baseline

    @property
    def font(self) -> int:
        return self.layout.font


@dataclass(frozen=True)
class Timeline:
    periods: list[Period]  # in order of time, the empty ones included
    unit: Unit
    undated: int = 0  # counted apart: not on the time axis
    period: str = "Mois"  # what a bar covers, as the table's first column says it: "Mois", "Année"

    @property
    def total(self) -> int:
        return sum(p.count for p in self.periods) + self.undated

    @property
    def rows(self) -> list[Period]:
        """The periods the table lists: every one that counts something."""
        return [p for p in self.periods if p.count]

    @cached_property
    def table(self) -> list[tuple[str, str | None, str]]:
        """The table's rows, written once here rather than a filter a cell: (label, link, count as written)."""
        return [(p.label, p.href, format_number(p.count)) for p in self.periods if p.count]

    @property
    def interactive(self) -> bool:
        return any(p.href for p in self.periods)

    @property
    def peak(self) -> Period | None:
        """The period that counts the most, when one does (no tie)."""
        ranked = sorted(self.rows, key=lambda p: p.count, reverse=True)
        if not ranked or (len(ranked) > 1 and ranked[1].count == ranked[0].count):
            return None
        return ranked[0]

    def name(self, period: Period) -> str:
        return f"{period.label} : {plural(period.count, *self.unit)}"

    @property
    def summary(self) -> str:
        """The chart in one sentence: "120 passages de janv. 2021 à déc. 2025 ; le plus : mars 2024 (12)."."""
        if not self.periods:
            return f"{plural(self.undated, *self.unit)}, tous sans date."
        first, last = self.periods[0].label, self.periods[-1].label
        span = f"en {first}" if len(self.periods) == 1 else f"de {first} à {last}"
        sentence = f"{plural(self.total - self.undated, *self.unit)} {span}"
        peak = self.peak
        if peak is not None and len(self.rows) > 1:  # a single month is its own peak
            sentence += f" ; le plus : {peak.label} ({format_number(peak.count)})"
        if self.undated:
            sentence += f" ; et {plural(self.undated, *self.unit)} sans date"
        return sentence + "."

    @cached_property
    def wide(self) -> Drawing:
        return self.drawing(WIDE)

    @cached_property
    def narrow(self) -> Drawing:
        return self.drawing(NARROW)

    def drawing(self, layout: Layout) -> Drawing:
        n = max(1, len(self.periods))
        slot = layout.width / n
        top = max((p.count for p in self.periods), default=0)
        bars = []
        for i, (p, name) in enumerate(zip(self.periods, self._names, strict=True)):
            height = 0.0 if not p.count else max(MIN_BAR, round(layout.plot * p.count / top, 2))
            x, y, width = round(i * slot + slot * 0.1, 2), round(layout.baseline - height, 2), round(slot * 0.8, 2)
            path = bar_path(x, y, width, layout.baseline) if p.count else ""
            bars.append(Bar(p, name, x, y, width, height, round(i * slot, 2), round(slot, 2), path))
        ticks = []
        room = layout.label_width if self.period == "Mois" else layout.label_width // 2  # "2024" is short
        right_of_last: float = -room  # where the previous label ends
        for i in self._ticks(max(1, layout.width // room)):
            x, anchor, left = round(i * slot + slot / 2, 2), "middle", i * slot + slot / 2 - room / 2
            if x < room / 2:  # a label at either end stays inside the frame
                x, anchor, left = round(i * slot, 2), "start", i * slot
            elif x > layout.width - room / 2:
                x, anchor, left = round((i + 1) * slot, 2), "end", (i + 1) * slot - room
            if left < right_of_last:  # pushed inside the frame, the first label can reach the next
                continue
            right_of_last = left + room
            ticks.append(Tick(x, self.periods[i].label, anchor))
        peak = self.peak
        counted = [b for b in bars if b.period.count]
        return Drawing(
            layout,
            bars,
            ticks,
            next((b for b in bars if b.period is peak), None),
            [(b.href, b.name, b.hit_path if b.href else "", b.path) for b in counted],
            "".join(b.path for b in counted),
            format_number(peak.count) if peak else "",
        )

    @cached_property
    def _names(self) -> list[str]:
        """Each period's name, once for both drawings."""
        return [self.name(p) for p in self.periods]

    def _ticks(self, room: int) -> list[int]:
        """The periods labelled under the axis, at most `room`: every step-th month from January
        (or year), the first one always, none too close to the one before."""
        if self.period == "Année":
            step = _step(len(self.periods), room, (1, 2, 5, 10, 20, 50))
            chosen = [i for i, p in enumerate(self.periods) if (p.first.year - self.periods[0].first.year) % step == 0]
        else:
            step = _step(len(self.periods), room, (1, 2, 3, 6, 12, 24, 60, 120))
            if step <= 12:
                chosen = [i for i, p in enumerate(self.periods) if (p.first.month - 1) % step == 0]
            else:
                start = self.periods[0].first.year  # every other January from the first year's, evenly
                chosen = [
                    i
                    for i, p in enumerate(self.periods)
                    if p.first.month == 1 and (p.first.year - start) % (step // 12) == 0
                ]
        kept: list[int] = []
        for i in [0, *(i for i in chosen if i)]:
            if not kept or i - kept[-1] >= max(1, step * 0.75):
                kept.append(i)
        return kept


@dataclass(frozen=True, slots=True)
class ShowRow:
    """One show's bars on the same months as the main timeline, in a thin row of their own: one path
    (the row is a picture beside its name and total; the main chart's table gives the months)."""

    name: str
    slug: str | None
    total: int
    path: str  # every bar of the row, as one path's data
    href: str | None = None  # the same search within this show
    width: int = WIDE.width
    height: int = ROW_HEIGHT
    total_text: str = ""  # "12 passages"


@dataclass(frozen=True, slots=True)
class ShowRows:
    rows: list[ShowRow] = field(default_factory=list)
    others: int = 0  # shows left out of the rows
    others_count: int = 0  # what they count


def bar_path(x: float, top: float, width: float, bottom: float) -> str:
    """A rectangle as path data, drawn up from its bottom: "M1.5 152V40.2h7.6V152z". The numbers come
    rounded to the hundredth; %g writes them in the fewest digits, exactly below 10,000 (six significant
    digits: a viewBox here is 960 wide)."""
    # %-formatting: twice as fast as f-string specifiers, for every bar of every row
    return "M%g %gV%gh%gV%gz" % (x, bottom, top, width, bottom)  # noqa: UP031


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_span(first: date, last: date) -> list[tuple[int, int]]:
    """Every (year, month) from first's month to last's, both included."""
    months, (year, month) = [], (first.year, first.month)
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def month_timeline(
    counts: Mapping[str, int],
    unit: Unit,
    span: tuple[date, date] | None = None,
    link: Link | None = None,
    undated: int = 0,
) -> Timeline | None:
    """A bar per month ("2024-03" → count) from the span's first month to its last (by default
    the counted months'), the months without any at zero; None when nothing is counted at all."""
    counted = sorted(key for key, n in counts.items() if n)
    if not counted and not undated:
        return None
    if counted:
        # a count outside the span widens it: the chart never leaves out a number the table gives
        low, high = _month_start(counted[0]), _month_start(counted[-1])
        span = (min(span[0], low), max(span[1], high)) if span else (low, high)
    periods = []
    for year, month in month_span(*span) if span else []:
        first, last = month_bounds(year, month)
        count = counts.get(month_key(first), 0)
        href = link(first, last) if link and count else None
        periods.append(Period(month_key(first), french_month(year, month), count, first, last, href))
    return Timeline(periods, unit, undated)


def year_timeline(counts: Mapping[int, int], unit: Unit, link: Link | None = None, undated: int = 0) -> Timeline | None:
    """A bar per year from the first counted to the last, the years without any at zero."""
    counted = sorted(year for year, n in counts.items() if n)
    if not counted and not undated:
        return None
    periods = []
    for year in range(counted[0], counted[-1] + 1) if counted else []:
        first, last = date(year, 1, 1), date(year, 12, 31)
        count = counts.get(year, 0)
        periods.append(Period(str(year), str(year), count, first, last, link(first, last) if link and count else None))
    return Timeline(periods, unit, undated, "Année")


def dates_timeline(days: Mapping[date | None, int], unit: Unit) -> Timeline | None:
    """How many things (appearances, episodes) each day, None for the undated, as bars: per month
    over three years or less, else per year."""
    dated = [day for day, n in days.items() if day is not None and n]
    undated = days.get(None, 0)
    if dated and len(month_span(min(dated), max(dated))) > YEARLY_AFTER:
        by_year: Counter[int] = Counter()
        for day in dated:
            by_year[day.year] += days[day]
        return year_timeline(by_year, unit, undated=undated)
    return months_timeline(days, unit)


def months_timeline(days: Mapping[date | None, int], unit: Unit) -> Timeline | None:
    """How many things each day, as a bar per month whatever the span (the home page's episodes)."""
    by_month: Counter[str] = Counter()
    for day, n in days.items():
        if day is not None:
            by_month[month_key(day)] += n
    return month_timeline(by_month, unit, undated=days.get(None, 0))


def show_rows(
    shows: Iterable[tuple[str, str | None, Mapping[str, int]]],
    timeline: Timeline,
    link: Callable[[str], str] | None = None,
    limit: int = SHOWS_SHOWN,
) -> ShowRows:
    """shows: (name, slug, counts by month), the most first; each drawn as a thin row of bars on the
    timeline's own months, at a scale of its own (a row shows when, the main chart how much)."""
    listed = [(name, slug, counts, sum(counts.values())) for name, slug, counts in shows]
    on_axis = {bar.period.key: bar for bar in timeline.wide.bars}
    rows = []
    for name, slug, counts, total in listed[:limit]:
        top = max(counts.values(), default=0)
        path = []
        for key, count in sorted(counts.items()):
            bar = on_axis.get(key)
            if count and bar is not None:
                height = max(MIN_BAR, round(ROW_HEIGHT * count / top, 2))
                path.append(bar_path(bar.x, round(ROW_HEIGHT - height, 2), bar.width, ROW_HEIGHT))
        href = link(slug) if link and slug else None
        rows.append(ShowRow(name, slug, total, "".join(path), href, total_text=plural(total, *timeline.unit)))
    rest = listed[limit:]
    return ShowRows(rows, len(rest), sum(total for *_, total in rest))


def _month_start(key: str) -> date:
    year, month = key.split("-")
    return date(int(year), int(month), 1)


def _step(n: int, room: int, steps: tuple[int, ...]) -> int:
    """The smallest step that leaves room for each label."""
    return next((s for s in steps if n / s <= room), steps[-1])
