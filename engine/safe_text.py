"""Text from files made safe for a terminal: no escape sequences, no control characters."""

from __future__ import annotations

import re

# Terminal escape sequences (CSI, OSC/DCS/PM/APC strings, two-byte ESC x), then any C0 (but tab), DEL or C1 left over.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -~]?")
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """`text` without escape sequences or control characters, so it cannot retitle, clear or break a line."""
    if text.isprintable():
        return text
    return _CONTROLS.sub("", _ESCAPES.sub("", text))
