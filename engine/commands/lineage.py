"""Branches and their parents: the fork a branch names, what it changed there, and runs ordered as a tree."""

from __future__ import annotations

from engine.knobs import KNOBS
from engine.store.history import History

SET_SOURCE = "--set"  # the source of the hparam events a branch logs for its edits at its first step
MAX_DEPTH = 32  # a branch of a branch of …: deeper than this is a loop in hand-edited logs, not a lineage


def fork_of(history: History) -> tuple[str | None, int | None]:
    """The parent run id and the fork epoch a branch's run_start names; (None, None) for a root run."""
    parent = history.parent if isinstance(history.parent, dict) else None
    if parent is None:
        return None, None
    run_id = parent.get("run_id")
    epoch = parent.get("epoch")
    return (str(run_id) if run_id else None), (epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else None)


def fork_changes(history: History, short_name) -> list[str]:
    """What a branch changed at its fork, e.g. ['lr 0.001 → 0.0005']: its first `--set` hparam events, old (the
    parent's value at the fork, from the checkpoint) against new; the last edit of a knob wins."""
    _, fork = fork_of(history)
    if fork is None:
        return []
    edits: dict[str, tuple[float, float]] = {}
    for change in history.changes:
        if change.source != SET_SOURCE or change.epoch != fork:
            continue
        old = edits.get(change.name, (change.old, change.new))[0]
        edits[change.name] = (old, change.new)
    names = [name for name in KNOBS if name in edits] + sorted(set(edits) - set(KNOBS))
    return [f"{short_name(KNOBS[n].config_path) if n in KNOBS else n} {edits[n][0]:g} → {edits[n][1]:g}"
            for n in names if edits[n][0] != edits[n][1]]


def fork_legend(history: History, short_name) -> str:
    """'lr 0.001 → 0.0005 @ epoch 12' for a branch with edits, else ''."""
    changes = fork_changes(history, short_name)
    return f"{' · '.join(changes)} @ epoch {fork_of(history)[1]}" if changes else ""


def tree_order(ids: list[str], parents: dict[str, str | None]) -> list[tuple[str, int]]:
    """`ids` (in their given order) rearranged so each branch follows its parent, with its depth in the tree; a
    branch whose parent is not among `ids` is a root of its own."""
    present = set(ids)
    children: dict[str, list[str]] = {}
    roots = []
    for run_id in ids:
        parent = parents.get(run_id)
        if parent in present and parent != run_id:
            children.setdefault(parent, []).append(run_id)
        else:
            roots.append(run_id)
    ordered: list[tuple[str, int]] = []
    seen: set[str] = set()

    def visit(run_id: str, depth: int) -> None:
        if run_id in seen:
            return
        seen.add(run_id)
        ordered.append((run_id, depth))
        for child in children.get(run_id, []):
            visit(child, min(depth + 1, MAX_DEPTH))

    for root in roots:
        visit(root, 0)
    for run_id in ids:  # a loop of parents (hand-edited logs) has no root: shown flat at the end
        visit(run_id, 0)
    return ordered

