"""The speaking-time bar as an episode's page draws it (an SVG from the server), and durations in words."""

from dataclasses import dataclass

from app.services.speaking import SpeakerTime

BAR_WIDTH = 300  # viewBox units of templates/speaking_time.html (300 × 28): about the side column in pixels
GAP = 2  # white between two segments, so that two neighbours never touch whatever their colours
NUMBER_MIN_WIDTH = 14  # a segment narrower than this has no room for its number (its title still says it)
# Dark enough for white text (4.5:1 or more) and for the bar against the page (3:1 or more); each
# segment also carries its number, repeated in the table, so that the colour is never the only clue.
COLOURS = ("#1d4ed8", "#b8430a", "#1f6f43", "#7e22ce", "#a3221b", "#0e7490", "#9d174d", "#4d5b12")
UNATTRIBUTED_COLOUR = "#596274"  # grey, and hatched: not a speaker


@dataclass(frozen=True, slots=True)
class Segment:
    number: int  # 1, 2, 3... as in the table below the bar; 0 for the unattributed lines
    name: str
    label: str  # "Julien Pillot : 45 % (3 min 05 s)", the segment's title
    x: float
    width: float
    colour: str
    hatched: bool

    @property
    def drawn(self) -> bool:
        return self.width > 0

    @property
    def centre(self) -> float:
        return self.x + self.width / 2

    @property
    def shows_number(self) -> bool:
        return self.number > 0 and self.width >= NUMBER_MIN_WIDTH


def talk_time(seconds: float) -> str:
    """ "45 s", "3 min 05 s", "1 h 02 min": a speaking time for people, to the second under an hour."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def label_of(time: SpeakerTime) -> str:
    return f"{time.name} : {time.percent} % ({talk_time(time.seconds)})"


def bar_segments(times: list[SpeakerTime]) -> list[Segment]:
    """One segment per row of the table, in its order, each as wide as its share of the talk (by the
    seconds, not the rounded percents): left to right in the bar; a speaker with no time is not drawn."""
    total = sum(t.seconds for t in times)
    segments: list[Segment] = []
    x, number = 0.0, 0
    for time in times:
        hatched = time.speaker is None
        if not hatched:
            number += 1
        share = BAR_WIDTH * time.seconds / total if total > 0 and time.seconds > 0 else 0.0
        segments.append(
            Segment(
                0 if hatched else number,
                time.name,
                label_of(time),
                round(x, 1),
                round(max(share - GAP, 0.5), 1) if share else 0.0,
                UNATTRIBUTED_COLOUR if hatched else COLOURS[(number - 1) % len(COLOURS)],
                hatched,
            )
        )
        x += share
    return segments
