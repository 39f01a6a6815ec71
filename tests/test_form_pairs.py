"""``parse.form_pairs`` is a faster ``parse_qsl(text, keep_blank_values=True)``: same pairs, same
errors, for any query string or form body."""

from __future__ import annotations

from urllib.parse import parse_qsl

from hypothesis import given
from hypothesis import strategies as st

from mockserver.core.parse import form_pairs

QUERYISH = st.text(alphabet=st.sampled_from(list("ab=&+%;2F0fézC3A9 ")), max_size=40)


def _outcome(parse: object, text: str) -> object:
    try:
        return parse(text)  # type: ignore[operator]
    except UnicodeDecodeError:
        return UnicodeDecodeError


@given(QUERYISH)
def test_form_pairs_equals_parse_qsl(text: str) -> None:
    assert form_pairs(text, errors="replace") == parse_qsl(text, keep_blank_values=True)
    strict = _outcome(form_pairs, text)
    reference = _outcome(lambda value: parse_qsl(value, keep_blank_values=True, errors="strict"), text)
    assert strict == reference


def test_form_pairs_examples() -> None:
    assert form_pairs("session=S1&room=lounge&text=hello+world%21") == [("session", "S1"), ("room", "lounge"), ("text", "hello world!")]
    assert form_pairs("a&&b=") == [("a", ""), ("b", "")]
