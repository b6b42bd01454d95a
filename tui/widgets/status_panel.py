"""Health findings, coloured by severity, with evidence and the key that applies the remedy; rules that pass are dim
ticks that read as passing ('✓ no NaN or explosion'), the rule's name after the phrase."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widgets import Static

from engine.events import TestEvaluation
from engine.health import Finding, passing_phrase
from engine.held_out_text import held_out_summary

STYLES = {"critical": "bold white on red", "warning": "bold black on yellow", "info": "bold black on cyan",
          "ok": "bold black on green", "n/a": "dim", "test": "bold white on blue"}
PASS_MARK = "✓"


class StatusPanel(Static):
    """The health module's verdicts on the run so far; once the run has ended, its held-out test scores first."""

    DEFAULT_CSS = "StatusPanel { height: auto; }"
    _shown: Text | None = None
    _last: tuple | None = None
    _height: int | None = None
    _width: int | None = None

    def on_resize(self, event: events.Resize) -> None:
        """Whether a passing rule's name fits beside its phrase, and how many lines the findings wrap onto, depend on
        the width: a new one starts the height afresh."""
        if event.size.width != self._width:
            self._width, self._height, self._shown = event.size.width, None, None
            self.styles.min_height = None
            if self._last is not None:
                self.show(*self._last)

    def show(self, findings: list[Finding], can_apply: bool, fatal_error: str = "", limit: int = 6,
             test: TestEvaluation | None = None) -> None:
        """Render a fatal error or the test scores, then the most severe findings first; `ok` ones follow, one dim
        line each."""
        self._last = (findings, can_apply, fatal_error, limit, test)
        text = Text()
        if fatal_error:
            text.append(" FAILED ", style=STYLES["critical"])
            text.append(f" {fatal_error}\n")
            text.append("   the run has ended; checkpoints already saved are kept\n", style="bold")
        if test is not None:
            scores, strategy = held_out_summary(test)
            text.append(" TEST ", style=STYLES["test"])
            text.append(f" {scores}\n")
            text.append(f"   {strategy}\n", style="dim")
        alarms = [f for f in findings if f.severity in ("critical", "warning", "info")]
        fine = [f.rule for f in findings if f.severity == "ok"]
        remedy_shown = False
        for finding in alarms[:limit]:
            text.append(f" {finding.severity.upper()} ", style=STYLES[finding.severity])
            when = f" (from epoch {finding.first_epoch})" if finding.first_epoch else ""
            text.append(f" {finding.rule}{when}: {finding.message}\n")
            if finding.evidence and finding.severity != "info":
                shown = list(finding.evidence.items())[:4]
                text.append("   " + ", ".join(f"{k}={v}" for k, v in shown) + "\n", style="dim")
            if finding.suggestion and finding.severity in ("critical", "warning") and not remedy_shown:
                remedy_shown = True
                key = "press a to" if can_apply else "replay only:"
                text.append(f"   remedy: {key} {finding.suggestion.label}\n", style="bold")
        width = self.size.width or 10 ** 6  # not laid out yet: on_resize draws again
        for rule in fine:
            phrase, name = f" {PASS_MARK} {passing_phrase(rule)}", f" ({rule})"
            text.append(phrase[:3], style="green")
            text.append(phrase[3:], style="dim")
            if phrase == f" {PASS_MARK} {rule}" or len(phrase) + len(name) > width:
                text.append("\n")  # the name says nothing more, or would wrap: one line per rule reads faster
            else:
                text.append(name + "\n", style="dim italic")
        if not findings:
            text.append("waiting for the first epoch…", style="dim")
        if text == self._shown:
            return
        self._shown = text
        if not self.size.width:
            self.update(text)
            return
        # A relayout costs the whole screen twice (the reflow, then its scroll area's new size), and findings come and
        # go every few epochs: the panel keeps the tallest height it has had at this width (its min-height), blank
        # below, so that one comes only when it grows. Counted as drawn: wrapped lines.
        lines = len(text.wrap(self.app.console, width))
        grows = lines > (self._height or 0)
        if grows:
            self._height = lines
            self.styles.min_height = lines
        self.update(text, layout=grows)
