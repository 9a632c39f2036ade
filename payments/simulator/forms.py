"""Decoding of Stripe-style request parameters.

Stripe's v1 API takes ``application/x-www-form-urlencoded`` bodies (and query strings) that
encode nested structures with brackets: ``metadata[order_id]=7``, ``expand[0]=latest_charge``,
``expand[]=latest_charge``, ``payment_method_data[card][number]=4242...``. The official SDK
produces exactly this (see ``stripe._encode._api_encode``), so we decode it back into nested
dicts and lists of strings.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

_KEY_RE = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART_RE = re.compile(r"\[([^\[\]]*)\]")


class FormError(ValueError):
    """The body could not be decoded (malformed JSON or conflicting keys)."""


def parse_form(text: str) -> dict[str, Any]:
    """Decode a form-encoded string with bracket notation into nested dicts/lists."""
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(text, keep_blank_values=True):
        match = _KEY_RE.match(raw_key)
        if not match:
            # Not bracket notation we understand: keep the key verbatim.
            root[raw_key] = value
            continue
        parts = [match.group(1), *_PART_RE.findall(match.group(2))]
        _assign(root, parts, value, raw_key)
    return _listify(root)


def parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    """Decode a request body; JSON is accepted too (handy for the /_simulator/ controls)."""
    if not body:
        return {}
    text = body.decode("utf-8")
    if content_type.split(";")[0].strip().lower() == "application/json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FormError(f"Invalid JSON body: {exc}") from exc
        if not isinstance(data, dict):
            raise FormError("JSON body must be an object.")
        return data
    return parse_form(text)


def _assign(node: dict[str, Any], parts: list[str], value: str, raw_key: str) -> None:
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "":
            # ``key[]=v`` appends: use the next free integer index.
            part = str(sum(1 for k in node if k.isdigit()))
        if last:
            node[part] = value
            return
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise FormError(f"Conflicting values for parameter {raw_key!r}.")
        node = child


def _listify(node: Any) -> Any:
    """Turn dicts whose keys are all integers (``expand[0]``, ``expand[1]``) into lists."""
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted
