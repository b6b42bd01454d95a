"""What keeps an attached dashboard cheap, shown as behaviour: the chart drawn from plotext's matrix is the very
chart its ANSI canvas gives; a sparkline whose samples did not change is not recomputed; the status panel keeps its
tallest height (no relayout when a finding goes); streamed epochs are drawn at most every EPOCH_REDRAW_S, while an
answer to a control is drawn at once."""

import pytest
from rich.console import Console
from rich.text import Text
from textual.app import App
from textual_plotext.plot import Plot

from engine.events import Paused, StepEvent
from engine.health import Finding
from tests import histories
from tests.conftest import wait_until
from tui.launch import dashboard_app
from tui.messages import EventsArrived
from tui.widgets.loss_sparklines import LossSparklines
from tui.widgets.plotext_canvas import matrix_text
from tui.widgets.status_panel import StatusPanel


def _plots():
    """Plots with what the dashboard's charts use: braille and dot markers, a dotted baseline, colours, vertical
    marker lines, a title and labels, y limits and named y ticks."""
    curves = Plot()
    curves.plot([1, 2, 3, 4, 5], [1.3, 1.1, 0.9, 0.95, 0.7], label="train", color="blue", marker="braille")
    curves.plot([1, 2, 3, 4, 5], [1.4, 1.2, 1.15, 1.2, 1.3], label="val", color="orange", marker="dot")
    curves.plot([1, 5], [1.0, 1.0], color="green", marker="·")
    curves.vline(3, "red")
    curves.title("loss · EMA")
    curves.xlabel("epoch")
    yield "curves", curves
    limited = Plot()
    limited.plot([0, 10, 20], [0.01, -0.2, 0.3], label="skill", color="cyan", marker="braille")
    limited.ylim(-0.3, 0.6)
    limited.yticks([-0.3, 0.0, 0.6], ["0.501", "1", "3.98"])
    yield "limited", limited
    yield "empty", Plot()


@pytest.mark.parametrize("size", [(80, 24), (41, 12)])
@pytest.mark.parametrize("name", ["curves", "limited", "empty"])
def test_the_chart_from_plotexts_matrix_is_the_chart_its_ansi_canvas_gives(name, size):
    plot = dict(_plots())[name]
    plot.plotsize(*size)
    from_ansi = Text.from_ansi(plot.build())
    plot._set_sizes()
    plot._build_matrix()
    from_matrix = matrix_text(plot.monitor.matrix)
    console = Console(width=200, color_system="truecolor", force_terminal=True)
    assert from_matrix.plain == from_ansi.plain
    assert list(console.render(from_matrix)) == list(console.render(from_ansi))  # same glyphs, same colours


async def test_a_sparkline_is_recomputed_only_when_its_samples_or_width_change(monkeypatch):
    drawn: list[str] = []
    original = LossSparklines._draw
    monkeypatch.setattr(LossSparklines, "_draw", lambda self, key, *args: (drawn.append(key), original(self, key, *args)))
    history = histories.history_of(histories.healthy_run(5))
    app = dashboard_app(history)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        sparklines = app.query_one(LossSparklines)
        drawn.clear()
        sparklines.show(history)
        assert drawn == []
        history.apply(StepEvent(epoch=5, batch=3, batches=10, step=999, loss=0.42))
        sparklines.show(history)
        assert drawn == ["step"]
        history.apply(histories.epoch(6, 0.5, 0.6))
        sparklines.show(history)
        assert drawn == ["step", "train", "val"]
        assert str(app.query_one("#train-label").render()).startswith("train 0.5000")


async def test_the_status_panel_keeps_its_tallest_height_until_the_width_changes():
    class OnePanel(App):
        CSS = "StatusPanel { width: 40; }"

        def compose(self):
            yield StatusPanel()

    many = [Finding.warning(f"rule{n}", f"message {n}") for n in range(4)]
    app = OnePanel()
    async with app.run_test(size=(60, 30)) as pilot:
        panel = app.query_one(StatusPanel)
        panel.show(many, can_apply=False)
        await wait_until(pilot, lambda: panel.size.height == 5)  # four lines and the blank the last break leaves
        panel.show(many[:1], can_apply=False)
        await wait_until(pilot, lambda: "rule0" in str(panel.render()) and "rule1" not in str(panel.render()))
        await pilot.pause()
        assert panel.size.height == 5  # the same height: nothing else moved
        lines = [strip.text.rstrip() for strip in panel.render_lines(panel.region.reset_offset)]
        assert "rule0" in lines[0] and lines[1:] == ["", "", "", ""]
        panel.styles.width = 50
        await wait_until(pilot, lambda: panel.size.height == 2)  # a new width starts afresh


async def test_streamed_epochs_wait_for_the_epoch_redraw_but_a_pause_is_drawn_at_once():
    history = histories.history_of(histories.healthy_run(5))
    app = dashboard_app(history)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.epochs_drawn == 5)
        history.apply(histories.epoch(6, 0.5, 0.6))
        screen.redraw(epochs_due=False)  # what a tick does within EPOCH_REDRAW_S of the last epoch redraw
        assert screen.epochs_drawn == 5 and "epoch 6/" in str(app.query_one("#header").render())
        assert screen.redraw_pending  # a later tick draws it
        screen.redraw(epochs_due=True)
        assert screen.epochs_drawn == 6
        history.apply(histories.epoch(7, 0.5, 0.6))
        screen.post_message(EventsArrived([Paused(epoch=7, step=700, reason="user")]))
        await wait_until(pilot, lambda: screen.epochs_drawn == 7)  # an answer to a control: drawn without the wait
        assert "PAUSED" in str(app.query_one("#header").render())
