"""Every action is in the command palette with its key; the footer keeps the main keys at 80 columns; `?` lists all."""

from textual.command import CommandList, CommandPalette
from textual.widgets import Footer

from tests import histories
from tests.conftest import wait_until
from tui.launch import dashboard_app
from tui.palette import keys_of


def live_app():
    return dashboard_app(histories.history_of(histories.healthy_run(5)))


def entries(app):
    return {command.title: command.help for command in app.get_system_commands(app.screen)}


async def test_every_binding_is_a_palette_entry_with_its_key():
    app = live_app()
    async with app.run_test(size=(80, 24)):
        found = entries(app)
        for binding in app.dashboard.help_bindings():
            if binding.description or binding.tooltip:
                assert found[binding.tooltip or binding.description] == f"key: {keys_of(app, binding)}"
        assert found["Pause ⇄ resume training"] == "key: space/p"
        assert found["Learning rate ×1.25 (lr up)"] == "key: =/+"
        assert found["Quit"] == "Quit the application as soon as possible"  # Textual's own commands stay


async def palette_search(app, pilot, text):
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*text)
    options = app.screen.query_one(CommandList)
    await wait_until(pilot, lambda: options.option_count > 0)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_searching_the_palette_finds_pause_save_and_lr_and_runs_the_action():
    app = live_app()
    async with app.run_test(size=(100, 30)) as pilot:
        for word, expected in (("pause", "Pause ⇄ resume training"), ("save", "Save a checkpoint now"),
                               ("lr", "Learning rate: type an exact value")):
            prompts = await palette_search(app, pilot, word)
            assert any(expected in prompt for prompt in prompts), prompts
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, CommandPalette))
        prompts = await palette_search(app, pilot, "skill")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.dashboard.chart_mode.metric == "loss")


async def test_footer_at_80_columns_keeps_the_main_keys_and_help_has_the_rest():
    app = live_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        shown = {key.key for key in app.query_one(Footer).query("FooterKey")}
        assert {"space", "a", "s", "e", "v", "question_mark", "q"} <= shown
        right_edge = max(key.region.right for key in app.query_one(Footer).query("FooterKey"))
        assert right_edge <= 80
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        text = str(app.screen.query_one("Static").render())
        for line in ("Dropout +0.05", "Weight decay: type an exact value", "Focus the next pane (then ↑↓ scroll it)"):
            assert line in text


async def test_a_terminal_too_small_says_so():
    app = live_app()
    async with app.run_test(size=(50, 15)) as pilot:
        await pilot.pause()
        notice = app.query_one("#too-small")
        assert notice.display and "needs 60×18" in str(notice.render())
        assert not app.query_one("#main").display
    app = live_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not app.query_one("#too-small").display
