"""The API's JSON parser (settings.REST_FRAMEWORK): a module of its own, as
DRF reads its parser setting while `rest_framework.views` is imported."""

import re
from typing import Any

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing a body with half of a surrogate pair (JSON's
    "\\ud800" with no partner) in any string, key or value, as a 400 naming
    the field it is under. Python reads such an escape into a string that no
    database stores and that cannot be written as UTF-8 — not even in the
    error message that echoes it back (a choice field's does). A pair is read
    as one character and stays. Every API view reads JSON through this."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        field = _unpaired_surrogate_in(data)
        if field is not None:
            raise exceptions.ParseError(
                {field: ["Text may not contain unpaired surrogates (\\ud800–\\udfff)."]}
            )
        return data


def _unpaired_surrogate_in(data: Any) -> str | None:
    """The top-level field whose value holds an unpaired surrogate ("detail"
    when the body is not an object, or a top-level key holds one), else None.
    Walked without recursion: a body may be nested as deep as json reads."""
    # JSON's keys are strings, so every field named here is one.
    top = data.items() if isinstance(data, dict) else [("detail", data)]
    for key, value in top:
        if _SURROGATE.search(key):
            return "detail"
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                if _SURROGATE.search(item):
                    return key
            elif isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")
