"""The API's request parser (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]).

Its own module, importing nothing of DRF's views: DRF reads the parser setting while it
defines APIView, so this must import without them.
"""

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json as drf_json

from core import untrusted

CONTROL_CHARACTERS_CODE = "invalid_characters"
CONTROL_CHARACTERS_DETAIL = "Text may not contain control characters."


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the checks of core.untrusted, answering 400 (`too_deep`,
    `invalid_characters`, `parse_error`).

    The nesting depth is checked on the text before the decoder recurses into it, and
    every decoded string (keys too) is checked once here, so no serializer field has to.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
            data = untrusted.loads(
                text, parse_constant=drf_json.strict_constant if self.strict else None
            )
        except untrusted.TooDeep as exc:
            raise ParseError(str(exc), code=exc.code) from exc
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            raise ParseError(f"JSON parse error - {exc}") from exc
        if untrusted.contains_forbidden_characters(data):
            raise ParseError(CONTROL_CHARACTERS_DETAIL, code=CONTROL_CHARACTERS_CODE)
        return data
