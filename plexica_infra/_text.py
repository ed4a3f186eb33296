"""Text shown back to people: cut to size, and free of characters that make it read
differently from what it is (control, bidi and invisible characters)."""

from __future__ import annotations

import unicodedata

__all__ = ["printable", "shown", "unsafe_character"]

#: Format characters that reorder or hide text (Trojan Source, CVE-2021-42574).
_BIDI_AND_INVISIBLE = frozenset(
    "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
)


def shown(value: object, limit: int = 80) -> str:
    """`repr(value)`, cut to `limit` characters: a hostile value must not make a message huge."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 4]}...{text[-1]}"


def unsafe_character(text: str, *, allow_newlines: bool = False) -> str | None:
    """Describe the first control, bidi or invisible character in `text`, or None.

    Such characters make a value read differently from what it is (a name shown
    reversed, a log line that is really two). `allow_newlines` lets tabs and newlines
    through, for free text that is never a resource name or a log line.
    """
    for index, char in enumerate(text):
        if allow_newlines and char in "\t\n\r":
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Cs", "Zl", "Zp") or char in _BIDI_AND_INVISIBLE:
            name = unicodedata.name(char, "control character")
            return f"U+{ord(char):04X} ({name.lower()}) at position {index}"
    return None


def printable(text: str) -> str:
    """`text` with every control, bidi and invisible character escaped (`\\n`, `\\u202e`).

    For anything printed from user input (folder names, JSON keys): a folder named
    `x\\n::error file=README.md::injected` must print as one line, not inject a second.
    """
    if unsafe_character(text) is None:
        return text
    out = []
    for char in text:
        if unsafe_character(char) is None:
            out.append(char)
        else:
            out.append(char.encode("unicode_escape").decode("ascii") if ord(char) < 0x10000 else f"\\U{ord(char):08x}")
    return "".join(out)
