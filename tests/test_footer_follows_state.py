"""The footer and panels follow the run's state: Resume while paused, the remedy key only with a remedy, and the
too-small notice when an open dashboard shrinks."""

from __future__ import annotations

from textual.widgets import Footer

from engine.events import Paused, Resumed
from tests import histories
from tests.conftest import wait_until
from tui.launch import dashboard_app
from tui.messages import EventsArrived


def footer_keys(app) -> dict[str, tuple[str, bool]]:
    """key → (its footer word, whether it is dimmed)."""
    return {key.key: (key.description, "-disabled" in key.classes) for key in app.query_one(Footer).query("FooterKey")}


def shown(app, key: str) -> tuple[str, bool] | None:
    """The footer's (word, dimmed) for `key`; None while the footer recomposes its keys."""
    return footer_keys(app).get(key)


async def test_the_pause_key_says_resume_while_paused_and_pause_again_after():
    app = dashboard_app(histories.history_of(histories.healthy_run()))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: shown(app, "space") == ("Pause", False))
        app.dashboard.post_message(EventsArrived([Paused(30, 960, "user")]))
        await wait_until(pilot, lambda: shown(app, "space") == ("Resume", False))
        app.dashboard.post_message(EventsArrived([Resumed(30, 960)]))
        await wait_until(pilot, lambda: shown(app, "space") == ("Pause", False))


async def test_the_remedy_key_is_dimmed_without_a_remedy_and_lit_with_one():
    healthy = dashboard_app(histories.history_of(histories.healthy_run()))
    async with healthy.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: shown(healthy, "a") is not None)
        assert shown(healthy, "a") == ("Remedy", True)
    exploding = dashboard_app(histories.history_of(histories.exploding_paused_run()))
    async with exploding.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: shown(exploding, "a") == ("Remedy", False))
        await wait_until(pilot, lambda: shown(exploding, "space") == ("Resume", False))


async def test_shrinking_an_open_dashboard_shows_the_too_small_notice_and_growing_hides_it():
    app = dashboard_app(histories.history_of(histories.paused_run()))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        notice = app.query_one("#too-small")
        assert not notice.display and app.query_one("#main").display
        await pilot.resize_terminal(58, 16)
        await wait_until(pilot, lambda: notice.display)
        assert "needs 60×18" in str(notice.render()) and not app.query_one("#main").display
        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: not notice.display)
        assert app.query_one("#main").display
