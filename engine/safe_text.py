"""Text from files and users made safe to print: no escape sequences or control characters, echoes cut short."""

from __future__ import annotations

import re
import reprlib
from typing import Any

# Terminal escape sequences (CSI, OSC/DCS/PM/APC strings, two-byte ESC x), then any C0 (but tab), DEL or C1 left over.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -~]?")
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """`text` without escape sequences or control characters, so it cannot retitle, clear or break a line."""
    if text.isprintable():
        return text
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


ECHO_CHARS = 100
_ECHO = reprlib.Repr()
_ECHO.maxstring, _ECHO.maxother, _ECHO.maxlist, _ECHO.maxdict, _ECHO.maxlevel = ECHO_CHARS, ECHO_CHARS, 8, 8, 3


def echo(value: Any) -> str:
    """repr() of user input, cut to about 100 characters so an error stays one readable line."""
    text = _ECHO.repr(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= ECHO_CHARS else text[: ECHO_CHARS - 3] + "..."


def short(text: str) -> str:
    """A name or word from the input, cut to about 100 characters."""
    return text if len(text) <= ECHO_CHARS else text[: ECHO_CHARS - 3] + "..."
