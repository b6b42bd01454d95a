"""Crash campaign: SIGKILL headless training at random moments (half of them mid-checkpoint), resume, repeat.

usage: python3 bench/crash_campaign.py [CHAINS] [KILLS_PER_CHAIN] [SEED]      (defaults 4 6 1: 24 kills)

Each chain is one run, killed KILLS_PER_CHAIN times; after each kill it checks every finished checkpoint (loads
it), reads the log, counts leftover `.*.tmp` files and epochs logged but in no checkpoint ("lost"), then resumes
from the newest checkpoint (what the farewell line suggests) and checks the resumed process carries on from that
checkpoint's epoch. At the end of a chain it resumes to completion. Temporaries are aged past the 60 s staleness
limit before each resume (as if the person resumed a while later), so the resume is what must remove them.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.store.checkpoint import load_checkpoint  # noqa: E402
from engine.errors import InputError  # noqa: E402
from engine.store.log_reader import read_jsonl  # noqa: E402
from engine.commands.runs import newest_checkpoint  # noqa: E402

EPOCHS = 40
SETTINGS = ["--data", "synthetic", "--epochs", str(EPOCHS), "--set", "data.synthetic.days=600", "--set", "data.window=16",
            "--set", "model.hidden_size=64", "--set", "training.batch_size=64", "--set", "checkpoint.every_epochs=1",
            "--set", "checkpoint.keep_last=2", "--set", "training.early_stopping.enabled=false"]
REPO = Path(__file__).resolve().parents[1]


def start(log_dir: Path, resume: Path | None) -> subprocess.Popen:
    """A headless training process (fresh, or resuming a checkpoint: its config, same epochs)."""
    argv = [sys.executable, "-m", "tui.cli", "train"]
    argv += ["--resume", str(resume), "--epochs", str(EPOCHS)] if resume else [*SETTINGS, "--set", f"log_dir={log_dir}"]
    return subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def log_lines(run_dir: Path | None) -> list[str]:
    """The log's lines as they are on disk (torn ones included)."""
    path = run_dir / "events.jsonl" if run_dir else None
    return path.read_text(errors="replace").splitlines() if path and path.exists() else []


def epochs_logged(lines: list[str]) -> list[int]:
    """Epoch numbers of the complete epoch events in the log, in file order."""
    found = []
    for line in lines:
        if line.startswith('{"type": "epoch"'):
            try:
                found.append(json.loads(line)["epoch"])
            except ValueError:
                pass
    return found


def temporaries(run_dir: Path) -> list[Path]:
    """Leftover temporaries of interrupted saves."""
    return [*run_dir.glob(".*.tmp"), *(run_dir / "checkpoints").glob(".*.tmp")]


def wait_and_kill(process: subprocess.Popen, log_dir: Path, mode: str, rng: random.Random, started_lines: int) -> dict:
    """Wait until this process logged its run_start, then kill at a random moment or while a checkpoint is written."""
    deadline = time.monotonic() + 120
    run_dir = None
    while time.monotonic() < deadline and process.poll() is None:
        dirs = sorted(p for p in log_dir.iterdir() if p.is_dir()) if log_dir.exists() else []
        run_dir = dirs[-1] if dirs else None
        if run_dir and sum('"type": "run_start"' in line for line in log_lines(run_dir)) > started_lines:
            break
        time.sleep(0.01)
    # Let 0-4 epochs pass (the machine's speed sets the pace, not a fixed clock), then strike.
    base, wanted = len(epochs_logged(log_lines(run_dir))), rng.randint(0, 4)
    seen, stamps = 0, [time.monotonic()]
    while process.poll() is None and seen < wanted and time.monotonic() < deadline:
        now_seen = len(epochs_logged(log_lines(run_dir))) - base
        if now_seen > seen:
            seen = now_seen
            stamps.append(time.monotonic())
        time.sleep(0.01)
    epoch_seconds = stamps[-1] - stamps[-2] if len(stamps) > 1 else 1.0
    if mode == "random":  # anywhere in the next epoch: training, validation, a save or a log write
        until = time.monotonic() + rng.uniform(0.0, epoch_seconds)
        while time.monotonic() < until and process.poll() is None:
            time.sleep(0.001)
    else:  # the next checkpoint write: kill as soon as its temporary exists
        while process.poll() is None and time.monotonic() < deadline:
            if run_dir and any(p.name.endswith(".tmp") for p in os.scandir(run_dir / "checkpoints")):
                break
            time.sleep(0.0005)
    alive = process.poll() is None
    tmp_at_kill = bool(run_dir and temporaries(run_dir))
    if alive:
        process.send_signal(signal.SIGKILL)
    process.wait()
    return {"run_dir": run_dir, "killed": alive, "tmp_at_kill": tmp_at_kill, "rc": process.returncode}


def inspect(run_dir: Path, before: int) -> dict:
    """Corrupt checkpoints, log readability, lost epochs and leftover temporaries right after a kill.

    Lost epochs: the newest epoch this process logged (lines from `before` on) minus the newest checkpoint's.
    """
    corrupt, newest_epoch = [], 0
    finished = sorted((run_dir / "checkpoints").glob("*.pt"))
    for path in finished:
        try:
            newest_epoch = max(newest_epoch, load_checkpoint(path)["epoch"])
        except InputError as error:
            corrupt.append(str(error))
    lines = log_lines(run_dir)
    try:
        _, notices = read_jsonl(run_dir)
        readable = True
    except InputError:
        notices, readable = [], False
    logged = epochs_logged(lines[before:])
    return {"checked": len(finished), "corrupt": corrupt, "ckpt_epoch": newest_epoch, "log_epoch": max(logged, default=0),
            "lost": max(max(logged, default=0) - newest_epoch, 0), "notices": len(notices), "readable": readable,
            "torn_tail": bool(lines) and not (run_dir / "events.jsonl").read_bytes().endswith(b"\n"),
            "temporaries": len(temporaries(run_dir))}


def age_temporaries(run_dir: Path) -> None:
    """Make leftover temporaries look two minutes old, past the 60 s limit after which a resume removes them."""
    old = time.time() - 120
    for path in temporaries(run_dir):
        os.utime(path, (old, old))


def resumed_from(run_dir: Path, before: int) -> tuple[int | None, int | None]:
    """The start epoch of the newest run_start and the first epoch logged after it."""
    lines = log_lines(run_dir)[before:]
    start_epoch, first = None, None
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("type") == "run_start":
            start_epoch, first = event.get("start_epoch"), None
        elif event.get("type") == "epoch" and first is None and start_epoch is not None:
            first = event["epoch"]
    return start_epoch, first


def chain(index: int, kills: int, rng: random.Random, root: Path) -> list[dict]:
    """One run killed `kills` times, resumed after each kill, finally resumed to the end."""
    log_dir = root / f"chain{index}" / "logs"
    rows, checkpoint, run_dir, resume_epoch = [], None, None, 0
    for kill in range(kills + 1):
        final = kill == kills
        mode = "to-end" if final else rng.choice(["random", "checkpoint"])
        if run_dir is not None:
            age_temporaries(run_dir)
        before = len(log_lines(run_dir))
        starts_before = sum('"type": "run_start"' in line for line in log_lines(run_dir))
        process = start(log_dir, checkpoint)
        if final:
            process.wait(timeout=600)
            dirs = sorted(p for p in log_dir.iterdir() if p.is_dir())
            outcome = {"run_dir": run_dir or dirs[-1], "killed": False, "tmp_at_kill": False, "rc": process.returncode}
        else:
            outcome = wait_and_kill(process, log_dir, mode, rng, starts_before)
        run_dir = outcome["run_dir"] or run_dir
        stderr = process.stderr.read().strip().splitlines() if process.stderr else []
        row = {"chain": index, "kill": kill, "mode": mode, **outcome, **inspect(run_dir, before),
               "stderr": stderr[-1][:120] if stderr else ""}
        if checkpoint is not None:
            start_epoch, first = resumed_from(run_dir, before)
            continued = start_epoch == resume_epoch and first in (None, resume_epoch + 1)
            row["resume"] = "ok" if continued else f"BAD (start {start_epoch}, first epoch {first}, {row['stderr']})"
        if final:
            done = process.returncode == 0 and row["log_epoch"] == EPOCHS
            row["resume"] = row.get("resume", "fresh") + (" completed" if done else f" rc {process.returncode}")
        checkpoint = newest_checkpoint(run_dir)
        resume_epoch = load_checkpoint(checkpoint)["epoch"] if checkpoint else 0
        row["next_resume"] = f"{checkpoint.name}@{resume_epoch}" if checkpoint else "fresh"
        if checkpoint is None:
            run_dir = None  # nothing saved yet: the next start is a fresh run in a new directory
        rows.append(row)
        print_row(row)
    return rows


def print_row(row: dict) -> None:
    """One line per kill."""
    print(f"chain {row['chain']} kill {row['kill']:>2} {row['mode']:>10}: killed={'y' if row['killed'] else 'n'} "
          f"tmp-at-kill={'y' if row['tmp_at_kill'] else 'n'} log-epoch {row['log_epoch']:>2} ckpt-epoch {row['ckpt_epoch']:>2} "
          f"lost {row['lost']} corrupt {len(row['corrupt'])} leftover-tmp {row['temporaries']} "
          f"log {'readable' if row['readable'] else 'UNREADABLE'} notices {row['notices']} "
          f"resume {row.get('resume', '-')} next {row['next_resume']}", flush=True)


def main() -> None:
    """Run the chains and print the totals."""
    chains = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    kills = int(sys.argv[2]) if len(sys.argv) > 2 else 6
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    with tempfile.TemporaryDirectory(prefix="crash-campaign-") as root:
        rows = []
        for index in range(chains):
            rows += chain(index, kills, rng, Path(root))
    killed = [r for r in rows if r["killed"]]
    resumes = [r for r in rows if "resume" in r]
    print(f"\n{len(killed)} SIGKILLs ({sum(r['mode'] == 'checkpoint' for r in killed)} aimed at checkpoint writes, "
          f"{sum(r['tmp_at_kill'] for r in killed)} with a temporary on disk at the kill)")
    print(f"checkpoint loads: {sum(r['checked'] for r in rows)}, corrupt {sum(len(r['corrupt']) for r in rows)}; logs unreadable "
          f"{sum(not r['readable'] for r in rows)}; torn last lines {sum(r['torn_tail'] for r in killed)}")
    print(f"lost epochs per kill (logged, in no checkpoint): max {max((r['lost'] for r in killed), default=0)}, "
          f"total {sum(r['lost'] for r in killed)}")
    print(f"leftover temporaries right after a kill: {sum(r['temporaries'] for r in killed)}; after the final resume: "
          f"{sum(r['temporaries'] for r in rows if r['mode'] == 'to-end')}")
    print(f"resumes: {sum(r['resume'].startswith('ok') for r in resumes)}/{len(resumes)} continued from the checkpoint's "
          f"epoch; chains completed: {sum('completed' in r.get('resume', '') for r in rows)}/{chains}")


if __name__ == "__main__":
    main()
