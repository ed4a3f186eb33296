"""Field types of the provider inputs: each refuses a bad value with the line a user reads.

Messages say `{key}`; the model puts the input's name there. Values come from the
engine (plain JSON: numbers as floats), so the types are strict about kinds and
convert only numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import PlainValidator

__all__ = [
    "Flag",
    "HttpPathInput",
    "Manifest",
    "NonNegativeNumber",
    "PositiveNumber",
    "Text",
    "UrlInput",
    "UrlList",
    "WholeNumber",
    "choice",
    "non_empty_text",
    "url_list",
]


def _rule(valid: Callable[[Any], bool], reason: str, convert: Callable[[Any], Any] = lambda v: v) -> PlainValidator:
    def validate(value: Any) -> Any:
        if not valid(value):
            raise ValueError(reason)
        return convert(value)

    return PlainValidator(validate)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def non_empty_text(example: str = "") -> PlainValidator:
    hint = f", e.g. {example!r}" if example else ""
    return _rule(_is_text, f"{{key}} must be a non-empty string{hint}")


def choice(values: tuple[str, ...], config_key: str) -> PlainValidator:
    return _rule(lambda v: v in values, f"{{key}} must be one of {', '.join(values)} (plexica:{config_key})")


def url_list(*, dedupe: bool) -> PlainValidator:
    """A non-empty list of URLs, without trailing slashes (and repeats, with `dedupe`)."""

    def normalized(values: Any) -> list[str]:
        urls = [str(url).rstrip("/") for url in values]
        return list(dict.fromkeys(urls)) if dedupe else urls

    return _rule(
        lambda v: isinstance(v, list | tuple) and bool(v) and all(isinstance(url, str) for url in v),
        "{key} must be a non-empty list of http(s) URLs",
        normalized,
    )


Flag = Annotated[bool, _rule(lambda v: isinstance(v, bool), "{key} must be true or false")]
Text = Annotated[str, _rule(lambda v: isinstance(v, str), "{key} must be a string")]
#: An http(s) URL; the scheme and TLS rules are the model's (they depend on another input).
UrlInput = Annotated[str, _rule(_is_text, "{key} must be an http(s) URL", lambda v: v.rstrip("/"))]
UrlList = Annotated[list[str], url_list(dedupe=False)]
HttpPathInput = Annotated[
    str,
    _rule(
        lambda v: isinstance(v, str) and v.startswith("/"), "{key} must be a path starting with '/', e.g. /health/live"
    ),
]
PositiveNumber = Annotated[float, _rule(lambda v: _is_number(v) and v > 0, "{key} must be a positive number", float)]
NonNegativeNumber = Annotated[float, _rule(lambda v: _is_number(v) and v >= 0, "{key} must be 0 or more", float)]
WholeNumber = Annotated[
    int,
    _rule(
        lambda v: _is_number(v) and v >= 1 and float(v).is_integer(), "{key} must be a whole number, at least 1", int
    ),
]
Manifest = Annotated[
    dict[str, Any], _rule(lambda v: isinstance(v, Mapping), "{key} must be an object (the plugin.json)", dict)
]
