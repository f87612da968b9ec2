"""Reading SMS replies: digits (5 = 非常满意), words, full-width input, comments, 退订; never an exception."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haocha.evaluations.levels import ORDERED, Level, to_satisfaction
from haocha.integrations.sms.parser import parse_reply

L = Level


@pytest.mark.parametrize(
    "text, kind, level, comment",
    [
        ("5", "rating", L.VERY_SATISFIED, ""),
        ("4", "rating", L.SATISFIED, ""),
        ("3", "rating", L.BASICALLY_SATISFIED, ""),
        ("2", "rating", L.DISSATISFIED, ""),
        ("1", "rating", L.VERY_DISSATISFIED, ""),
        (" 5 ", "rating", L.VERY_SATISFIED, ""),
        ("1 态度差", "rating", L.VERY_DISSATISFIED, "态度差"),
        ("1态度差", "rating", L.VERY_DISSATISFIED, "态度差"),
        ("2，等太久", "rating", L.DISSATISFIED, "等太久"),
        ("5分", "rating", L.VERY_SATISFIED, ""),
        ("5星 服务很好", "rating", L.VERY_SATISFIED, "服务很好"),
        ("５", "rating", L.VERY_SATISFIED, ""),  # full-width digit
        ("１　窗口没人", "rating", L.VERY_DISSATISFIED, "窗口没人"),  # full-width digit and space
        ("非常满意", "rating", L.VERY_SATISFIED, ""),
        ("满意", "rating", L.SATISFIED, ""),
        ("满意，谢谢", "rating", L.SATISFIED, "谢谢"),
        ("基本满意", "rating", L.BASICALLY_SATISFIED, ""),
        ("不满意 等太久", "rating", L.DISSATISFIED, "等太久"),
        ("不满意等太久", "rating", L.DISSATISFIED, "等太久"),
        ("非常不满意！材料被退回三次", "rating", L.VERY_DISSATISFIED, "材料被退回三次"),
        ("2 等了一小时，没人管！", "rating", L.DISSATISFIED, "等了一小时，没人管！"),  # words kept as written
        ("很满意", "rating", L.VERY_SATISFIED, ""),
        ("退订", "opt_out", None, ""),
        ("TD", "opt_out", None, ""),
        ("td", "opt_out", None, ""),
        ("ＴＤ", "opt_out", None, ""),  # full-width letters
        ("T", "opt_out", None, ""),
        ("退订。", "opt_out", None, ""),
        ("", "unknown", None, ""),
        ("   ", "unknown", None, ""),
        ("0", "unknown", None, "0"),
        ("6", "unknown", None, "6"),
        ("12", "unknown", None, "12"),
        ("12345", "unknown", None, "12345"),
        ("谢谢", "unknown", None, "谢谢"),
        ("好", "unknown", None, "好"),
        ("不退订", "unknown", None, "不退订"),
    ],
)
def test_it_reads_replies(text, kind, level, comment):
    reply = parse_reply(text)
    assert (reply.kind, reply.level, reply.comment) == (kind, level, comment)


def test_the_digits_are_the_invitation_text_and_the_interface_field():
    """The invitation says 回复5非常满意 … 1非常不满意: the national `satisfaction` direction."""
    for level in ORDERED:
        assert parse_reply(str(to_satisfaction(level))).level == level


def test_a_long_comment_is_cut_to_what_the_intake_takes():
    reply = parse_reply("2 " + "慢" * 1500)
    assert reply.level == L.DISSATISFIED and len(reply.comment) == 1000


comments = st.text(
    alphabet=st.characters(codec="utf-8", categories=["Lo", "Ll", "Lu"]), min_size=1, max_size=40
).filter(lambda s: s.strip() and not s[0].isdigit() and s[0] not in "分星")


@given(level=st.sampled_from(ORDERED), comment=comments, fullwidth=st.booleans())
def test_any_level_digit_with_any_comment_round_trips(level, comment, fullwidth):
    digit = str(to_satisfaction(level))
    if fullwidth:
        digit = chr(ord(digit) - ord("0") + ord("０"))
    reply = parse_reply(f"{digit} {comment}")
    assert reply.kind == "rating" and reply.level == level
    assert reply.comment == comment.strip()  # the citizen's own words, whatever the script


@given(st.text(max_size=200))
def test_it_never_raises(text):
    reply = parse_reply(text)
    assert reply.kind in ("rating", "opt_out", "unknown")
    if reply.kind == "rating":
        assert reply.level in ORDERED
