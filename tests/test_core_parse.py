"""core/parse.py: repeated keys and ``key[]`` become lists only for parameters the schema declares
as arrays, as Express's parsers read them (``qs`` for queries, ``querystring`` for form bodies)."""

from __future__ import annotations

import pytest

from mockserver.core.parse import BadRequest, Declared, _single, parse_query

DECLARED = Declared({"chat", "text", "access_token"}, frozenset({"chat"}))


def test_a_repeated_array_parameter_is_a_list_and_a_single_one_a_string() -> None:
    assert parse_query(b"chat=a&chat=b&chat=c", DECLARED) == {"chat": ["a", "b", "c"]}
    assert parse_query(b"chat=a", DECLARED) == {"chat": "a"}  # qs: a=1 -> '1'
    assert _single([("chat", "a"), ("chat", "b")], "form body", DECLARED) == {"chat": ["a", "b"]}
    assert _single([("chat", "a")], "form body", DECLARED) == {"chat": "a"}


def test_brackets_in_the_query_make_a_list_as_qs_does() -> None:
    assert parse_query(b"chat%5B%5D=a", DECLARED) == {"chat": ["a"]}
    assert parse_query(b"chat[]=a&chat[]=b", DECLARED) == {"chat": ["a", "b"]}
    assert parse_query(b"chat=a&chat[]=b", DECLARED) == {"chat": ["a", "b"]}
    assert parse_query(b"other[]=x&other[]=y", DECLARED) == {"other[]": "x"}  # undeclared: ignored later, first kept


def test_brackets_in_a_form_body_are_a_name_of_their_own() -> None:
    """``bodyParser.urlencoded({extended: false})`` (querystring) does not read ``[]``."""
    assert _single([("chat[]", "a")], "form body", DECLARED) == {"chat[]": "a"}


def test_a_single_valued_parameter_may_not_repeat() -> None:
    with pytest.raises(BadRequest, match="'text' given more than once in the query string"):
        parse_query(b"text=a&text=b", DECLARED)
    with pytest.raises(BadRequest, match=r"'text' takes one value, not a list \(text\[\]\)"):
        parse_query(b"text[]=a", DECLARED)
    with pytest.raises(BadRequest, match="'access_token' given more than once in the form body"):
        _single([("access_token", "a"), ("access_token", "b")], "form body", DECLARED)


def test_a_plain_name_set_keeps_the_old_rule() -> None:
    assert parse_query(b"a=1&a=2&b=3", frozenset({"b"})) == {"a": "1", "b": "3"}
    with pytest.raises(BadRequest):
        parse_query(b"b=1&b=2", frozenset({"b"}))
