"""The widgets at 80 columns and in every state: fitted table columns, the two-line header, a followed log's
progress, the legend kept off the curves and passing rules that read as passing."""

import numpy as np
from rich.text import Text

from engine.events import Paused, StepEvent
from engine.health import RULES, Finding, Suggestion
from engine.health.passing import PASSING, passing_phrase
from engine.store.history import History
from tests import histories
from tests.conftest import wait_until
from tests.test_logs import write_log
from tui.launch import dashboard_app, replay_app
from tui.widgets.column_fit import Elastic, Header, fit_columns, wrap_cell
from tui.widgets.footer_state import pause_key_label, remedy_key_state
from tui.widgets.loss_chart import legend_headroom
from tui.widgets.run_header import RunHeader, data_text

HEADERS = [Header("run"), Header("best val", "val"), Header("verdict")]


def cells(*values: str) -> list[Text]:
    return [Text(v) for v in values]


def test_columns_take_their_widest_cell_when_there_is_room():
    rows = [cells("■ l", "1.3955", "ok"), cells("■ lr 0.004 · dropout 0.35", "1.0", "warning: overfitting")]
    fitted = fit_columns(HEADERS, rows, space=80)
    assert fitted.titles == ["run", "best val", "verdict"] and fitted.widths == [25, 8, 20] and fitted.heights == [1, 1]


def test_a_narrow_table_takes_short_titles_then_wraps_the_label_under_its_swatch():
    rows = [cells("■ lr 0.002 · dropout 0.35", "1.3955", "ok"), cells("■ lr 0.004", "1.2927", "ok")]
    fitted = fit_columns(HEADERS, rows, space=33, elastic=[Elastic(0, floor=12, hang=2)])
    assert fitted.titles == ["run", "val", "verdict"]
    assert fitted.widths == [14, 6, 7] and sum(fitted.widths) + 2 * 3 == 33
    assert fitted.rows[0][0].plain == "■ lr 0.002 ·\n  dropout 0.35" and fitted.heights == [2, 1]
    assert fitted.rows[1][0].plain == "■ lr 0.004"


def test_a_label_past_two_lines_ends_in_an_ellipsis_and_a_table_that_cannot_fit_keeps_its_floor():
    assert wrap_cell(Text("■ lr 0.002 · dropout 0.35 · wd 0.001"), 12, hang=2).plain == "■ lr 0.002 ·\n  dropout …"  # cut at a word: no value half shown
    fitted = fit_columns(HEADERS, [cells("■ lr 0.002 · dropout 0.35", "1.3955", "ok")], space=10,
                         elastic=[Elastic(0, floor=12, hang=2)])
    assert fitted.widths == [12, 6, 7]  # wider than 10: the table scrolls rather than cut a number


def test_the_header_names_the_tickers_trained_not_the_files():
    old_log = {"source": "bundled Quandl WIKI (AAPL, IBM, MSFT, GOOG, FB)", "tickers": ["AAPL", "GOOG", "IBM", "MSFT"]}
    assert data_text(old_log) == "bundled Quandl WIKI · AAPL GOOG IBM MSFT"
    assert data_text({"source": "prices.csv", "tickers": [f"T{i}" for i in range(9)]}) == "prices.csv · 9 tickers"
    assert data_text({"source": "synthetic(signal=0.6)"}) == "synthetic(signal=0.6)"


def test_the_first_line_keeps_state_run_id_epoch_and_eta_within_80_columns():
    start = histories.start()
    start.data["tickers"] = ["AAPL", "GOOG", "IBM", "MSFT"]
    events = [start, *(histories.epoch(n, 1.3, 1.31) for n in range(1, 23)), Paused(22, 704, "non-finite loss")]
    history = histories.history_of(events)
    first, second = RunHeader.first_line(history, None).plain, RunHeader.second_line(history, "attached").plain
    assert first == " PAUSED  (non-finite loss) 20261125-120000-demo · epoch 22/100 · ETA 4m09s" and len(first) <= 80
    assert second == " attached 2,500 samples/s · cpu · bundled Quandl WIKI · AAPL GOOG IBM MSFT"


async def test_follow_shows_the_epochs_when_the_step_samples_carry_no_position(tmp_path):
    events = [histories.start()] + [histories.epoch(n, 1.3 - 0.01 * n, 1.31 - 0.01 * n, total=20) for n in range(1, 9)]
    path = write_log(tmp_path / "events.jsonl", events)
    app = replay_app(str(path), follow=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: len(app.dashboard.history.epochs) == 8)
        with path.open("a") as log:  # the trainer's next step sample, read through the follower's fast path
            log.write(StepEvent(9, 3, 32, 259, 1.2, time=1.0).to_json() + "\n")
        label = app.query_one("#step-text")
        await wait_until(pilot, lambda: "in progress" in str(label.render()))
        assert str(label.render()) == "epoch 8/20 done · epoch 9 in progress"
        bar = app.query_one("#step-bar")
        assert (bar.progress, bar.total) == (8, 20)


def test_the_legend_gets_headroom_only_when_a_curve_runs_under_it():
    x = np.arange(1.0, 41.0)
    falling = [(x, 2.0 - x / 40)]  # starts at the top left, where plotext puts the legend
    top = legend_headroom(falling, ["train", "val"], 1.0, 1.975, (80, 20))
    share = 2.5 / (20 - 5)  # two legend rows and half a row of the canvas's 15
    assert top > 1.975 and (top - 1.975) / (top - 1.0) >= share - 1e-9  # the first point sits below the legend's rows
    rising = [(x, x / 40)]
    assert legend_headroom(rising, ["train"], 0.025, 1.0, (80, 20)) == 1.0  # the legend's corner is empty already


def test_every_rule_has_a_passing_phrase():
    names = {rule(History()).rule for rule in RULES}
    assert names == set(PASSING)
    assert passing_phrase("exploding") == "no NaN or explosion" and passing_phrase("new_rule") == "new_rule"


async def test_passing_rules_read_as_passing_with_the_rule_after_the_phrase():
    app = dashboard_app(histories.history_of(histories.healthy_run()))
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one("#status")
        panel.show([Finding.ok("exploding", "no NaN"), Finding.ok("over_regularised", "balanced")], can_apply=True)
        await pilot.pause()
        assert str(panel.render()) == " ✓ no NaN or explosion (exploding)\n ✓ regularisation balanced (over_regularised)\n"
        assert "OK" not in str(panel.render())


def test_the_footer_keys_follow_the_run_state():
    paused = histories.history_of(histories.paused_run())
    running = histories.history_of(histories.healthy_run())
    assert (pause_key_label(paused), pause_key_label(running)) == ("Resume", "Pause")
    remedy = Finding.warning("overfitting", "gap widening", remedy=Suggestion("dropout", 0.4))
    assert remedy_key_state([remedy]) is True
    assert remedy_key_state([Finding.ok("exploding", "fine"), Finding.warning("plateau", "flat")]) is None


async def test_the_status_panel_grows_when_a_finding_wraps_onto_more_lines_though_it_has_no_more_line_breaks():
    # Its height was re-laid out only when the count of line breaks changed: a longer message that wrapped once more
    # kept the old height and its last line was cut off.
    from textual.app import App

    from tui.widgets.status_panel import StatusPanel

    class OnePanel(App):
        CSS = "StatusPanel { width: 40; }"

        def compose(self):
            yield StatusPanel()

    app = OnePanel()
    async with app.run_test(size=(60, 20)) as pilot:
        panel = app.query_one(StatusPanel)
        panel.show([Finding.info("baseline", "short")], can_apply=False)
        await wait_until(pilot, lambda: panel.size.height == 2)  # the line, then the blank its line break leaves
        panel.show([Finding.info("baseline", "a message long enough to wrap onto three lines at forty columns wide")],
                   can_apply=False)
        await wait_until(pilot, lambda: panel.size.height == 4)
        lines = [strip.text.rstrip() for strip in panel.render_lines(panel.region.reset_offset)]
        assert lines[2].endswith("columns wide") and lines[3] == ""
