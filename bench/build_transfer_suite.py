"""Build the procedural transfer suite under tests/transfer_suite/ (about an hour on 2 shared cores; run it niced).

Each seed draws its own run (bench/transfer/spec.py): writer (our engine over its CLI and socket, real Keras 3,
real Lightning, TensorBoard from torch's SummaryWriter or Keras's callback), data and task, model, optimiser,
schedule, batch size, fault kind, onset and strength. Its label comes from the construction and is checked against
the logged epoch table (bench/transfer/facts.py): kept, changed by a written rule, or the run is dropped. Then the
suite is split once, by a hash of the seed and stratified by label, into a tuning and a held-out half.

    nice -n 19 python3 bench/build_transfer_suite.py [--count 340] [--jobs 2] [--only SEED ...]

A further suite from the same factor distributions, on seeds no other suite used, all of it one split (the fresh
evaluation set, tests/transfer_fresh/, was built with exactly this):

    nice -n 19 python3 bench/build_transfer_suite.py --suite tests/transfer_fresh --first-seed 1000 --count 180 --split-name fresh

`pip install -e ".[diagsuite]"` brings the writers. Seeds already built (or dropped) are skipped, so an interrupted
build continues where it stopped; the split of a log, once written, never changes.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import hashlib
import json
import multiprocessing
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SUITE = ROOT / "tests" / "transfer_suite"


def _load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _save(path: Path, data: dict) -> None:
    """One entry per line, sorted by name: compact, and a rebuilt seed shows as one changed line."""
    lines = [f"{json.dumps(name)}: {json.dumps(entry)}" for name, entry in sorted(data.items())]
    temporary = path.with_suffix(".tmp")
    temporary.write_text("{\n" + ",\n".join(lines) + "\n}\n")
    temporary.replace(path)


SPLITS = {"tuning": 0, "heldout": 1}  # the printing order of the default suite's halves


def split_key(seed: int) -> str:
    """The hash that orders runs within a label for the split: fixed by the seed alone."""
    return hashlib.sha256(f"transfer-split:{seed}".encode()).hexdigest()


def assign_splits(labels: dict, name: str | None = None) -> int:
    """Give every log without a split one, alternating tuning/held-out down each label's hash order (or all of them
    `name`); returns how many."""
    if name is not None:
        missing = [entry for entry in labels.values() if "split" not in entry]
        for entry in missing:
            entry["split"] = name
        return len(missing)
    by_label = collections.defaultdict(list)
    for name, entry in labels.items():
        by_label[entry["label"]].append(name)
    assigned = 0
    for names in by_label.values():
        counts = collections.Counter(labels[n]["split"] for n in names if "split" in labels[n])
        for name in sorted((n for n in names if "split" not in labels[n]), key=lambda n: split_key(labels[n]["seed"])):
            half = "tuning" if counts["tuning"] <= counts["heldout"] else "heldout"
            labels[name]["split"], assigned = half, assigned + 1
            counts[half] += 1
    return assigned


def seeds_in(suite: Path) -> set[int]:
    """Every seed a suite folder has built or dropped."""
    return {e["seed"] for e in _load(suite / "labels.json").values()} | {d["seed"] for d in _load(suite / "dropped.json").values()}


def _report(labels: dict, dropped: dict) -> None:
    relabelled = [e for e in labels.values() if e["label"] != e["intended"]]
    print(f"\nkept {len(labels)} logs; relabelled by a rule {len(relabelled)}; dropped {len(dropped)}")
    for rule, n in collections.Counter(e["rule"] for e in relabelled).most_common():
        print(f"  relabelled {n:3}: {rule}")
    for rule, n in collections.Counter(d["dropped"].split(":")[0] if d["dropped"].startswith("error") else d["dropped"]
                                       for d in dropped.values()).most_common():
        print(f"  dropped    {n:3}: {rule}")
    table = collections.Counter((e["label"], e["split"]) for e in labels.values())
    splits = sorted({split for _, split in table}, key=lambda split: (split not in SPLITS, SPLITS.get(split, 0), split))
    for label in sorted({lab for lab, _ in table}):
        print(f"  {label:18} " + "  ".join(f"{split} {table[(label, split)]:3}" for split in splits))
    print("  by writer: " + ", ".join(f"{w} {n}" for w, n in sorted(collections.Counter(e["writer"] for e in labels.values()).items())))


def main() -> int:
    """Build the missing seeds in worker processes, then split and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=340, help="seeds FIRST .. FIRST+COUNT-1")
    parser.add_argument("--first-seed", type=int, default=0, metavar="FIRST", help="the first seed (default 0)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", type=int, nargs="*", default=[], help="rebuild just these seeds")
    parser.add_argument("--suite", type=Path, default=SUITE, help="the suite folder (default tests/transfer_suite)")
    parser.add_argument("--split-name", default=None, metavar="NAME",
                        help="put every new log in split NAME instead of halving the suite into tuning and heldout")
    args = parser.parse_args()
    from bench.transfer.build_one import build_one

    suite = args.suite.resolve()
    built = seeds_in(suite)
    seeds = args.only or [s for s in range(args.first_seed, args.first_seed + args.count) if s not in built]
    shared = sorted(set(seeds) & seeds_in(SUITE)) if suite != SUITE else []
    if shared:  # a second suite measures transfer only on runs the first one never held
        print(f"error: --suite {args.suite}: seeds {shared[0]}..{shared[-1]} ({len(shared)}) are already in {SUITE.relative_to(ROOT)}; "
              "choose another --first-seed", file=sys.stderr)
        return 2
    suite.mkdir(parents=True, exist_ok=True)
    labels_path, dropped_path = suite / "labels.json", suite / "dropped.json"
    labels, dropped = _load(labels_path), _load(dropped_path)
    for seed in args.only:
        labels = {k: v for k, v in labels.items() if v["seed"] != seed}
        dropped = {k: v for k, v in dropped.items() if v["seed"] != seed}
    os.environ["PYTHONPATH"] = str(ROOT)
    os.environ.setdefault("KERAS_BACKEND", "torch")
    context = multiprocessing.get_context("spawn")
    # No max_tasks_per_child: with it, Python 3.11's pool stops handing out work once the first workers retire.
    with concurrent.futures.ProcessPoolExecutor(args.jobs, mp_context=context) as pool:
        futures = {pool.submit(build_one, seed, str(suite)): seed for seed in seeds}
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            entry = future.result()
            if "dropped" in entry:
                dropped[entry["name"]] = entry
                print(f"[{done}/{len(seeds)}] {entry['name']:24} dropped: {entry['dropped']}", flush=True)
            else:
                labels[entry["name"]] = entry
                print(f"[{done}/{len(seeds)}] {entry['name']:24} {entry['intended']:18} -> {entry['label']:18} onset={entry['onset']}",
                      flush=True)
            _save(labels_path, labels)
            _save(dropped_path, dropped)
    assign_splits(labels, args.split_name)
    _save(labels_path, labels)
    _report(labels, dropped)
    return 0


if __name__ == "__main__":
    sys.exit(main())
