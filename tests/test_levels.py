"""The five levels convert exactly to and from both national code tables; channel code tables."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haocha.evaluations import levels as lv
from haocha.evaluations.channels import NATIONAL_CODES, Channel, channel_code, channel_from_code

EXPECTED = [
    # meaning, word, GB/T 39046 A.8, interface `satisfaction`
    ("very_satisfied", "非常满意", "1", 5),
    ("satisfied", "满意", "2", 4),
    ("basically_satisfied", "基本满意", "3", 3),
    ("dissatisfied", "不满意", "4", 2),
    ("very_dissatisfied", "非常不满意", "5", 1),
]


@pytest.mark.parametrize("meaning, word, gbt, satisfaction", EXPECTED)
def test_the_code_tables_match_the_standards(meaning, word, gbt, satisfaction):
    level = lv.Level(meaning)
    assert level.label == word
    assert lv.to_gbt39046(level) == gbt
    assert lv.to_satisfaction(level) == satisfaction
    assert lv.from_gbt39046(gbt) == level
    assert lv.from_satisfaction(satisfaction) == level
    assert lv.from_word(word) == level


@given(st.sampled_from(list(lv.Level)))
def test_round_trip_through_both_tables_is_exact(level):
    assert lv.from_gbt39046(lv.to_gbt39046(level)) == level
    assert lv.from_satisfaction(lv.to_satisfaction(level)) == level
    # GB/T A.8 → level → interface → level → GB/T A.8
    code = lv.to_gbt39046(level)
    assert lv.to_gbt39046(lv.from_satisfaction(lv.to_satisfaction(lv.from_gbt39046(code)))) == code


@given(st.integers(min_value=1, max_value=5))
def test_the_two_tables_run_in_opposite_directions(code):
    assert int(lv.to_gbt39046(lv.from_satisfaction(code))) == 6 - code


@pytest.mark.parametrize("bad", ["0", "6", "", "x", None, "1.5"])
def test_unknown_codes_are_refused(bad):
    with pytest.raises(lv.UnknownLevel):
        lv.from_gbt39046(bad)
    with pytest.raises(lv.UnknownLevel):
        lv.from_satisfaction(bad)


def test_bad_levels_are_the_two_lowest():
    assert {level for level in lv.Level if lv.is_bad(level)} == {
        lv.Level.DISSATISFIED,
        lv.Level.VERY_DISSATISFIED,
    }


def test_channel_tables_national_and_regional():
    assert [
        channel_code(c) for c in ("pc", "mobile", "qrcode", "tablet", "terminal", "phone", "sms")
    ] == list("1234567")
    for channel in NATIONAL_CODES:
        assert channel_from_code(channel_code(channel)) == channel
    zhejiang = {
        "pc": "1",
        "mobile": "2",
        "qrcode": "3",
        "tablet": "4",
        "terminal": "5",
        "sms": "6",
        "default": "7",
    }
    assert channel_code(Channel.SMS, zhejiang) == "6"
    assert channel_from_code("7", zhejiang) == Channel.DEFAULT
    assert channel_code(Channel.PHONE, zhejiang) == ""
