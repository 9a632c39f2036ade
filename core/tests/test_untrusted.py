"""core.untrusted: JSON depth checked before decoding; control characters found."""

import json
import re

import pytest

from core import untrusted


def nested(levels: int, opening: str = "[", closing: str = "]") -> str:
    return opening * levels + closing * levels


@pytest.mark.parametrize("text", [nested(5000), '{"email": ' + nested(5000) + "}"])
def test_deep_nesting_is_refused_before_the_decoder_recurses(text, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("the decoder must not run")

    monkeypatch.setattr(untrusted.json, "loads", never)

    with pytest.raises(untrusted.TooDeep, match="nested deeper than 32 levels"):
        untrusted.loads(text)


def test_nesting_up_to_the_limit_is_decoded():
    assert untrusted.loads(nested(32)) == json.loads(nested(32))
    with pytest.raises(untrusted.TooDeep):
        untrusted.loads(nested(33))


def test_objects_count_like_arrays():
    deep = '{"a": ' * 33 + "1" + "}" * 33
    with pytest.raises(untrusted.TooDeep):
        untrusted.loads(deep)


def test_brackets_inside_strings_do_not_count():
    text = json.dumps({"a": "[" * 100 + '\\"{' * 100, "b": ["]]]}}}", "[[["]})
    assert untrusted.loads(text) == json.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        '"' + '\\"' * 100_000,  # a string that never ends, full of escaped quotes
        '["' + '\\"[' * 100_000,
        "[" * 20 + '"unterminated',
    ],
)
def test_malformed_text_is_left_to_the_decoder(text):
    with pytest.raises(json.JSONDecodeError):
        untrusted.loads(text)


def test_bytes_must_be_utf8():
    assert untrusted.loads('{"a": "é"}'.encode()) == {"a": "é"}
    with pytest.raises(UnicodeDecodeError):
        untrusted.loads(b'{"a": "\xff"}')


@pytest.mark.parametrize(
    "text", ["\x00", "a\x01b", "\x1b[31m", "\x7f", "\x85", "\x9f", "\x0b", "\x0c", "\ud800"]
)
def test_control_characters_and_lone_surrogates_are_forbidden(text):
    assert untrusted.has_forbidden_characters(text)


@pytest.mark.parametrize("text", ["", "plain", "tab\there", "two\nlines\r\n", "é€😀", "\xa0"])
def test_ordinary_text_is_allowed(text):
    assert not untrusted.has_forbidden_characters(text)


@pytest.mark.parametrize(
    ("data", "forbidden"),
    [
        ({"email": "a@example.com", "items": [{"n": 1}, None, True, 2.5]}, False),
        ({"email": "a\x00@example.com"}, True),
        ({"a\x00": 1}, True),  # keys too
        ([[[["deep \x01"]]]], True),
        (json.loads('["\\ud83d\\ude00"]'), False),  # a surrogate pair is one character
        (json.loads('["\\ud800"]'), True),
    ],
)
def test_decoded_json_is_searched_everywhere(data, forbidden):
    assert untrusted.contains_forbidden_characters(data) is forbidden


@pytest.mark.parametrize(
    ("text", "text_ok", "non_blank_ok"),
    [
        ("", True, False),
        ("  \t\n", True, False),
        (" a ", True, True),
        ("two\nlines", True, True),
        ("a\x00", False, False),
        ("\x85a", False, False),
    ],
)
def test_schema_patterns_say_what_the_checks_do(text, text_ok, non_blank_ok):
    """The OpenAPI `pattern`s (core.schema) state the same rule for text."""
    assert bool(re.search(untrusted.TEXT_PATTERN, text)) is text_ok
    assert bool(re.search(untrusted.NON_BLANK_TEXT_PATTERN, text)) is non_blank_ok
    assert text_ok is not untrusted.has_forbidden_characters(text)
