"""Findings whose message contradicts its own numbers: an "improvement" that is negative, a "descent" that rises,
a gap that "grew" while val sits below train, a "rise" of zero or less, "3x its best" below 1x."""

from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER = r"([-+]?\d+(?:\.\d*)?(?:e[-+]?\d+)?)"


@dataclass(frozen=True)
class Check:
    """A phrase in a message and the test its number(s) must pass."""

    name: str
    pattern: re.Pattern
    holds: callable


def _evidence_gap_not_negative(match, finding) -> bool:
    gap = finding.evidence.get("gap")
    return not isinstance(gap, (int, float)) or gap >= 0


CHECKS = [
    Check("negative improvement", re.compile(r"improv\w*\s+\(?" + NUMBER + "%"), lambda m, f: float(m[1]) >= 0),
    Check("negative fall", re.compile(r"\bfalling\s+" + NUMBER), lambda m, f: float(m[1]) >= 0),
    Check("descent that rises", re.compile(r"descent \(" + NUMBER + r"\s*->\s*" + NUMBER + r"\)"), lambda m, f: float(m[2]) < float(m[1])),
    Check("rise of zero or less", re.compile(r"\brose\s+" + NUMBER), lambda m, f: float(m[1]) > 0),
    Check("gap that shrank", re.compile(r"gap grew\s+" + NUMBER), lambda m, f: float(m[1]) > 0),
    Check("gap grew while val is below train", re.compile(r"gap grew"), _evidence_gap_not_negative),
    Check("'x its best' below 1x", re.compile(NUMBER + r"x its best"), lambda m, f: float(m[1]) >= 1),
    Check("a jump of less than 1x", re.compile(r"up to\s+" + NUMBER + "x"), lambda m, f: float(m[1]) >= 1),
    Check("beats the constant with negative skill", re.compile(r"beats the constant baseline: skill\s+" + NUMBER + "%"),
          lambda m, f: float(m[1]) > 0),
    Check("worse than a constant with positive skill",
          re.compile(r"(?:worse than predicting a constant|below the constant baseline): skill\s+" + NUMBER + "%"), lambda m, f: float(m[1]) < 0),
]


def contradictions(finding) -> list[str]:
    """What in this finding's message its own numbers contradict (empty when nothing does)."""
    found = []
    for check in CHECKS:
        for match in check.pattern.finditer(finding.message):
            if not check.holds(match, finding):
                found.append(f"{check.name}: {finding.rule}: {match[0]!r}")
    return found
