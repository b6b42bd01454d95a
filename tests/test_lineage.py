"""Branches beside their parents: the summaries name the fork, curves align at it, legends say what changed."""

from __future__ import annotations

import pytest

from engine.commands.compare import gather, legend_labels, load_all
from engine.commands.lineage import tree_order
from tests.lineage_runs import FORK, PARENT, write_family


@pytest.fixture
def family(tmp_path):
    """The root, an unrelated run, two branches at epoch 12 and a branch of a branch at 16."""
    return write_family(tmp_path / "logs")


def test_summaries_name_the_parent_and_the_fork_epoch(family):
    runs, problems = gather(family[0].parent)
    assert problems == []
    assert [(r.summary.parent_id, r.summary.fork_epoch) for r in runs] == [
        (None, None), (None, None), (PARENT, FORK), (PARENT, FORK), ("20261124-100000-b1", 16)]
    assert [r.parent.run_id if r.parent else None for r in runs] == [None, None, PARENT, PARENT, "20261124-100000-b1"]


def test_a_branch_curve_starts_on_its_parents_point_at_the_fork(family):
    root, _, branch, _, grandchild = load_all([str(p) for p in family])
    x, y = branch.curve("val_loss")
    assert x.tolist() == list(range(FORK, 21))
    assert y[0] == pytest.approx(root.curve("val_loss")[1][FORK - 1]) and y[1] == pytest.approx(1.305 - 0.004 * 13)
    # Time counts from the root's start: the parent's 12 epochs of 3.2 s, then the branch's own.
    assert branch.curve("val_loss", by="time")[0][:2].tolist() == pytest.approx([3.2 * FORK, 3.2 * (FORK + 1)])
    assert grandchild.curve("val_loss", by="time")[0][0] == pytest.approx(3.2 * 16)
    # The EMA goes on from the parent's smoothed value at the fork, not from the branch's first point.
    assert branch.curve("val_loss", ema=True)[1][0] == pytest.approx(root.curve("val_loss", ema=True)[1][FORK - 1])


def test_a_branch_alone_draws_only_its_own_epochs(family):
    (branch,) = load_all([str(family[2])])
    assert branch.parent is None and branch.curve("val_loss")[0].tolist() == list(range(FORK + 1, 21))


def test_legends_name_what_each_branch_changed_at_the_fork(family):
    runs = load_all([str(p) for p in family])
    assert legend_labels(runs) == [
        "lr 0.001 · dropout 0.3 · clf_weight 0.5", "lr 0.001 · dropout 0.35 · clf_weight 0.5",
        "lr 0.001 → 0.0005 @ epoch 12 · dropout 0.3 · clf_weight 0.5",
        "dropout 0.3 → 0.1 @ epoch 12 · lr 0.001 · clf_weight 0.5",
        "clf_weight 0.5 → 1 @ epoch 16 · lr 0.001 · dropout 0.3"]
    assert legend_labels([runs[0], runs[2]]) == ["lr 0.001", "lr 0.001 → 0.0005 @ epoch 12"]


def test_tree_order_puts_each_branch_under_its_parent_and_survives_loops():
    parents = {"b1": "p", "b2": "p", "b3": "b1", "q": None, "x": "y", "y": "x"}
    assert tree_order(["p", "q", "b1", "b2", "b3", "x", "y"], parents) == [
        ("p", 0), ("b1", 1), ("b3", 2), ("b2", 1), ("q", 0), ("x", 0), ("y", 1)]
    assert tree_order(["b1", "q"], parents) == [("b1", 0), ("q", 0)]  # a parent not shown: a root of its own
