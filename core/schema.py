"""The API's OpenAPI generator (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]).

drf-spectacular's, telling clients (and schemathesis) the rules the code enforces beyond
the serializer fields' own validators, so the schema never promises what the API refuses.
"""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import is_list_serializer

from core import untrusted
from core.api import RejectUnknownFieldsMixin


class AutoSchema(SpectacularAutoSchema):
    """What drf-spectacular cannot see:

    - input serializers with RejectUnknownFieldsMixin: `additionalProperties: false`;
    - nested lists: `minItems` / `maxItems` from `allow_empty`, `min_length`, `max_length`;
    - free text in bodies and query strings: a `pattern` without control characters
      (core.parsers.JSONParser and config.middleware refuse them), which also needs one
      character that is not white space where the field trims it and refuses a blank.
    """

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction != "request":
            return schema
        if isinstance(serializer, RejectUnknownFieldsMixin):
            schema["additionalProperties"] = False
        properties = schema.get("properties", {})
        for name, field in serializer.fields.items():
            prop = properties.get(name)
            if not isinstance(prop, dict):
                continue
            if is_list_serializer(field) and prop.get("type") == "array":
                _document_list_length(field, prop)
            elif _is_free_text(prop):
                blank_refused = getattr(field, "trim_whitespace", False) and not getattr(
                    field, "allow_blank", True
                )
                prop["pattern"] = (
                    untrusted.NON_BLANK_TEXT_PATTERN if blank_refused else untrusted.TEXT_PATTERN
                )
        return schema

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        for parameter in (operation or {}).get("parameters", []):
            if parameter.get("in") == "query" and _is_free_text(parameter.get("schema", {})):
                parameter["schema"]["pattern"] = untrusted.TEXT_PATTERN
        return operation


def _is_free_text(schema: dict) -> bool:
    return schema.get("type") == "string" and not {"format", "enum", "pattern"} & schema.keys()


def _document_list_length(field, schema: dict) -> None:
    minimum = field.min_length or (0 if field.allow_empty else 1)
    if minimum:
        schema["minItems"] = minimum
    if field.max_length is not None:
        schema["maxItems"] = field.max_length


class TokenClaimsScheme(SimpleJWTScheme):
    """core.api.TokenClaimsAuthentication is the same bearer JWT to a client (it only
    reads the user differently): its operations require the `jwtAuth` scheme, which the
    views authenticating with simplejwt's own class define (spectacular refuses two
    classes behind one scheme name, so this one defines none)."""

    target_class = "core.api.TokenClaimsAuthentication"
    name = []  # type: ignore[assignment]

    def get_security_requirement(self, auto_schema):
        return {SimpleJWTScheme.name: []}

    def get_security_definition(self, auto_schema):
        return []
