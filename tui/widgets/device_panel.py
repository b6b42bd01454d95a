"""Two lines on the training device and the trainer's process: GPU utilisation, memory, temperature, power; CPU% and
RSS, from the stats events the trainer publishes."""

from __future__ import annotations

from textual.widgets import Static

from engine.events import DeviceStats
from engine.store.history import History

DASH = "–"


def _num(value: float | None, fmt: str, unit: str = "") -> str:
    return DASH if value is None else f"{value:{fmt}}{unit}"


def _bytes(value: float | None) -> str:
    if value is None:
        return DASH
    for unit, size in (("GiB", 2 ** 30), ("MiB", 2 ** 20)):
        if value >= size:
            return f"{value / size:.1f} {unit}"
    return f"{value / 1024:.0f} KiB"


def device_text(stats: DeviceStats) -> str:
    """'gpu 87% · 10.2 GiB/80.0 GiB · 65°C · 250 W' (GPU runs) and 'proc cpu 143% · rss 512.0 MiB'."""
    host = f"proc cpu {_num(stats.cpu_percent, '.0f', '%')} · rss {_bytes(stats.rss)}"
    if stats.name != "gpu":
        return host
    memory = f"{_bytes(stats.mem_used)}/{_bytes(stats.mem_total)}"
    return (f"gpu {_num(stats.util_percent, '.0f', '%')} · {memory} · {_num(stats.temperature_c, '.0f', '°C')} · "
            f"{_num(stats.power_w, '.0f', ' W')}\n{host}")


class DevicePanel(Static):
    """The figures of the trainer's latest stats event (live, attached or replayed); hidden before the first one."""

    DEFAULT_CSS = "DevicePanel { height: auto; max-height: 2; color: $text-muted; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.shown: DeviceStats | None = None
        self._lines = 0  # how many lines the panel shows: its height

    def on_mount(self) -> None:
        self.display = False

    def show(self, history: History) -> None:
        """Draw the history's latest figures, if they are new ('–' where the trainer has none)."""
        stats = history.device
        if stats is self.shown:
            return
        self.shown = stats
        self.display = stats is not None
        if stats is not None:
            text = device_text(stats)
            lines, self._lines = self._lines, text.count("\n") + 1
            # A new layout only when the height changes: one per stats event (every 2 s) cost the attached
            # dashboard a reflow of the whole screen, most of its CPU between epochs.
            self.update(text, layout=lines != self._lines)
