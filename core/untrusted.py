"""Checks on text from outside (request bodies, query strings, webhooks) before it reaches
a recursive parser or the database.

- `loads()`: JSON with its nesting depth checked by a linear scan *before* the decoder
  runs, so a body like `[[[[...]]]]` 5,000 levels deep is refused instead of exhausting
  the recursion limit (a RecursionError, a 500).
- `has_forbidden_characters()`: control characters (NUL, which PostgreSQL cannot store in
  text, and the other C0/C1 controls, which only serve to corrupt logs and terminals) and
  lone surrogates (which cannot be encoded to UTF-8). Tab, line feed and carriage return
  stay allowed: they are ordinary in multi-line text.

Callers decide what a refusal becomes: core.api's JSON parser a 400, the query-string
middleware (config.middleware) a 400, the webhook endpoint a 400.
"""

import json
import re

# Deeper than any body the API or Stripe sends (checkout's is 3 levels, a Stripe event's
# about 8), far below the interpreter's recursion limit.
MAX_JSON_DEPTH = 32

# Written as \uXXXX escapes, which Python's `re` and ECMA regexes (the OpenAPI schema's
# `pattern`) read alike. The schema's patterns leave out lone surrogates: they are not
# Unicode text at all, and regex engines such as Rust's refuse to name them.
CONTROL_CHARACTERS = r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F"
_FORBIDDEN = re.compile(rf"[{CONTROL_CHARACTERS}\uD800-\uDFFF]")
# Text without control characters; and such text with at least one character that is
# not white space (for fields that trim white space and refuse a blank).
_C = CONTROL_CHARACTERS
TEXT_PATTERN = f"^[^{_C}]*$"
NON_BLANK_TEXT_PATTERN = rf"^[^\S{_C}]*[^\s{_C}][^{_C}]*$"

# A JSON string literal, an opening or closing bracket, or a quote that opens a string
# never closed. Possessive quantifiers: a scan never backtracks, so it stays linear.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]|"', re.DOTALL)


class UntrustedInputError(ValueError):
    """Input refused before it was used; `code` is the API error code it answers with."""

    code = "invalid"


class TooDeep(UntrustedInputError):
    code = "too_deep"


def has_forbidden_characters(text: str) -> bool:
    return _FORBIDDEN.search(text) is not None


def contains_forbidden_characters(data) -> bool:
    """Whether any string in decoded JSON (keys included) has forbidden characters.

    Iterative, so it never recurses however the data is shaped."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if has_forbidden_characters(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def check_json_depth(text: str, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise TooDeep if arrays and objects nest deeper than `max_depth` (strings skipped).

    Malformed text (an unterminated string, unbalanced brackets) passes through for the
    decoder to report; only the nesting is judged here.
    """
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        lexeme = match.group()
        if lexeme in "[{":
            depth += 1
            if depth > max_depth:
                raise TooDeep(f"JSON nested deeper than {max_depth} levels.")
        elif lexeme in "]}":
            depth -= 1
        elif lexeme == '"':  # a string that never ends: the decoder will refuse it
            return


def loads(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH, **kwargs):
    """json.loads, after checking the nesting depth. Raises ValueError (TooDeep, or the
    decoder's JSONDecodeError) for text it refuses; a bytes body must be UTF-8."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    check_json_depth(text, max_depth=max_depth)
    return json.loads(text, **kwargs)
