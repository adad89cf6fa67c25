"""The `t` of a shared link, read as a second or a range: every form a user may type, and the refusals."""

import pytest

from app.limits import MAX_TIMECODE_SECONDS
from app.timecodes import Moment, TimecodeError, parse_moment


@pytest.mark.parametrize(
    ("t", "second"),
    [
        ("754", 754),
        ("754.6", 754),
        ("754,6", 754),
        ("754s", 754),
        (" 754 ", 754),
        ("0", 0),
        ("12:34", 754),
        ("0:12:34", 754),
        ("00:12:34", 754),
        ("1:02:03", 3723),
        ("120:00", 7200),
        ("12m34s", 754),
        ("12min34", 754),
        ("12m", 720),
        ("1h02m03s", 3723),
        ("1H02M03S", 3723),
        ("2h", 7200),
    ],
)
def test_a_shared_second_is_read_in_every_form(t, second):
    assert parse_moment(t) == Moment(second)


def test_a_range_is_read_in_order_whichever_end_comes_first():
    assert parse_moment("754-790") == Moment(754, 790)
    assert parse_moment("12:34-13:10") == Moment(754, 790)
    assert parse_moment("13:10-12:34") == Moment(754, 790)


@pytest.mark.parametrize(
    "t",
    [
        "1:75:00",  # 75 minutes in an hour
        "0:60:00",
        "1:60:00",  # minutes run 0 to 59 once hours are given
        "12:60",
        "1:99",
        "1:02:60",  # seconds run 0 to 59
        "12:34:56:78",
        "zz",
        "-5",
        "754-",
        "1-2-3",
        "12:34-1:75:00",
        "",
    ],
)
def test_a_time_that_is_not_a_time_is_refused(t):
    with pytest.raises(TimecodeError):
        parse_moment(t)


def test_the_last_second_of_a_clock_hour_is_accepted():
    assert parse_moment("1:59:59") == Moment(7199)
    assert parse_moment("59:59") == Moment(3599)


def test_a_moment_past_any_episode_is_refused_with_the_limit_inclusive():
    assert parse_moment(str(MAX_TIMECODE_SECONDS)) == Moment(MAX_TIMECODE_SECONDS)
    assert parse_moment("48:00:00") == Moment(MAX_TIMECODE_SECONDS)
    for t in (str(MAX_TIMECODE_SECONDS + 1), "48:00:01", "99999999"):
        with pytest.raises(TimecodeError, match="dépasse"):
            parse_moment(t)


def test_the_longest_link_accepted_is_forty_characters():
    longest = "0" * 17 + "754-" + "0" * 16 + "790"
    assert len(longest) == 40 and parse_moment(longest) == Moment(754, 790)
    with pytest.raises(TimecodeError, match="trop long"):
        parse_moment("0" + longest)


def test_refusals_say_why_in_french():
    with pytest.raises(TimecodeError, match="n'est pas une heure valide"):
        parse_moment("1:75:00")
    with pytest.raises(TimecodeError, match="n'est pas un horodatage"):
        parse_moment("zz")
    with pytest.raises(TimecodeError, match="vide"):
        parse_moment(" ")
    with pytest.raises(TimecodeError, match="trop long"):
        parse_moment("9" * 41)
    with pytest.raises(TimecodeError, match="plage"):
        parse_moment("1-2-3")
