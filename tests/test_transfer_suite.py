"""The committed transfer suites are whole and well-formed (they do not assert the rules' score: that is measured by
bench/score_transfer.py). tests/transfer_suite/ is the tuning data; tests/transfer_fresh/ is the evaluation set kept
for once the rules are final, so it is checked only for its build facts, never run through the rules here."""

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench.build_transfer_suite import assign_splits, seeds_in  # noqa: E402
from bench.score_transfer import LogScore, figures, is_right, score_log, splits_to_score  # noqa: E402
from bench.transfer.messages import contradictions  # noqa: E402
from engine.errors import InputError  # noqa: E402
from engine.health.findings import Finding  # noqa: E402
from score_diagnosis import ACCEPTS, QUIET, RULE_VERDICT  # noqa: E402

SUITE = ROOT / "tests" / "transfer_suite"
FRESH = ROOT / "tests" / "transfer_fresh"
LABELS = json.loads((SUITE / "labels.json").read_text())
FRESH_LABELS = json.loads((FRESH / "labels.json").read_text())
SUITES = [SUITE, FRESH]
KNOWN = QUIET | set(RULE_VERDICT.values()) | set(ACCEPTS) | {"frozen", "frozen-weights"}
WRITERS = {"engine", "keras", "lightning", "tb_torch", "tb_keras"}


def test_at_least_300_logs_from_every_writer_in_both_halves():
    assert len(LABELS) >= 300
    assert Counter(e["split"] for e in LABELS.values()).keys() == {"tuning", "heldout"}
    halves = Counter(e["split"] for e in LABELS.values())
    assert abs(halves["tuning"] - halves["heldout"]) <= len({e["label"] for e in LABELS.values()})
    assert {e["writer"] for e in LABELS.values()} == WRITERS


def test_the_fresh_suite_is_one_split_of_at_least_160_logs_from_every_writer_on_new_seeds():
    assert len(FRESH_LABELS) >= 160
    assert {e["split"] for e in FRESH_LABELS.values()} == {"fresh"}
    assert {e["writer"] for e in FRESH_LABELS.values()} == WRITERS
    assert seeds_in(FRESH).isdisjoint(seeds_in(SUITE))
    assert sum(e["label"] in QUIET for e in FRESH_LABELS.values()) >= 40
    assert len({e["label"] for e in FRESH_LABELS.values()}) >= 8


def test_the_fresh_suite_stays_small():
    assert sum(p.stat().st_size for p in FRESH.rglob("*") if p.is_file()) < 2_000_000


@pytest.mark.parametrize("suite", SUITES, ids=lambda p: p.name)
def test_every_label_is_one_the_scorer_knows_and_faults_have_an_onset(suite):
    for name, entry in json.loads((suite / "labels.json").read_text()).items():
        assert entry["label"] in KNOWN, name
        assert set(entry.get("accepts", [])) <= KNOWN, name
        if entry["label"] not in QUIET:
            assert isinstance(entry["onset"], int) and entry["onset"] >= 1, name


def test_each_label_is_split_across_both_halves():
    by_label = Counter((e["label"], e["split"]) for e in LABELS.values())
    for label in {e["label"] for e in LABELS.values()}:
        if by_label[(label, "tuning")] + by_label[(label, "heldout")] >= 2:
            assert by_label[(label, "tuning")] and by_label[(label, "heldout")], label


@pytest.mark.parametrize("suite", SUITES, ids=lambda p: p.name)
def test_labels_match_the_files(suite):
    labels = json.loads((suite / "labels.json").read_text())
    on_disk = {p.name for p in suite.iterdir() if p.name.startswith("t")}
    assert on_disk == set(labels)
    for name, entry in labels.items():
        path = suite / name
        assert name.startswith(f"t{entry['seed']:04d}_{entry['writer']}"), name
        if entry["writer"].startswith("tb_"):
            assert path.is_dir() and any(path.rglob("events.out.tfevents.*")), name
        else:
            assert path.is_file() and path.stat().st_size > 0, name


def test_the_error_classes_of_the_foreign_suite_are_in_it():
    variants = Counter((e["writer"], e["variant"], e["label"]) for e in LABELS.values())
    factors = [e["factors"] for e in LABELS.values()]
    assert any(f["writer"] == "lightning" and f["plan"].get("lr_monitor") for f in factors)
    assert any(f["writer"] == "lightning" and f["plan"].get("val_every", 1) > 1 for f in factors)
    assert any(v[1].startswith("dropout_below") and v[2] == "healthy" for v in variants)
    assert any("+" in v[1] and v[2] == "healthy" for v in variants)  # a spike that recovers
    assert any(v[1] == "schedule_decay" and v[2] == "frozen" for v in variants)
    assert any(v[1] == "adamw_heavy_decay" and v[2] == "over-regularised" for v in variants)
    assert any(v[0] == "engine" and v[1] == "dropout_095" for v in variants)
    assert any(v[1] == "late_after_early_explosion" for v in variants)
    assert sum(e["label"] in QUIET for e in LABELS.values()) >= 60


def test_an_unreadable_log_is_counted_not_raised(tmp_path):
    broken = tmp_path / "t0001_lightning.csv"
    broken.write_text("not,a,training,log\n1,2,3,4\n")
    score = score_log(broken, {"label": "healthy", "onset": None, "writer": "lightning"})
    assert score.unreadable and not score.right
    assert figures([score])["unreadable"] == {"lightning": (1, 1)}


def test_a_quiet_run_must_stay_quiet_and_a_log_may_accept_two_names():
    assert is_right("healthy", "quiet") and not is_right("healthy", "overfitting")
    assert not is_right("over-regularised", "frozen") and is_right("over-regularised", "frozen", ["over-regularised", "frozen"])
    assert figures([LogScore("a", "keras", "healthy", got="overfitting", alarm_epochs=[3])])["false_alarm_end"] == 1


def test_contradictions_are_read_out_of_messages():
    assert contradictions(Finding(rule="plateau", severity="info", message="validation plateau: best loss improved -0.71% of the scale in 10 epochs"))
    grew = Finding(rule="overfitting", severity="warning", message="overfitting: val − train gap grew 0.12 over the last epochs", evidence={"gap": -0.43})
    assert contradictions(grew) == ["gap grew while val is below train: overfitting: 'gap grew'"]
    assert not contradictions(Finding(rule="plateau", severity="info", message="validation plateau: best loss improved 0.30% of the scale in 10 epochs"))
    assert not contradictions(Finding(rule="frozen", severity="info", message="flat loss for 4 epochs: converged after a real descent (1.2 -> 0.8)"))


def test_fault_free_means_no_warning_counts_a_quiet_nothing_learnable_run_right():
    quiet = LogScore("a", "keras", "nothing-learnable", got="quiet")
    warned = LogScore("b", "keras", "nothing-learnable", got="overfitting", alarm_epochs=[3])
    fault = LogScore("c", "keras", "overfitting", got="overfitting", right=True)
    unreadable = LogScore("d", "keras", "healthy", unreadable="bad header")
    f = figures([quiet, warned, fault, unreadable])
    assert (f["right"], f["right_no_warning"]) == (1, 2)
    assert f["by_label_no_warning"] == {"healthy": (0, 1), "nothing-learnable": (1, 2), "overfitting": (1, 1)}
    assert f["by_writer"] == {"keras": (1, 4)} and f["by_writer_no_warning"] == {"keras": (2, 4)}


def test_the_scorer_takes_any_split_the_suite_holds_and_names_a_missing_one(tmp_path):
    assert splits_to_score(SUITE, "all") == ["tuning", "heldout"] == splits_to_score(SUITE, "both")
    assert splits_to_score(FRESH, "fresh") == ["fresh"] == splits_to_score(FRESH, "all")
    with pytest.raises(InputError, match="no log has split 'tuning'.*holds: fresh"):
        splits_to_score(FRESH, "both")
    with pytest.raises(InputError, match="labels.json: no such file"):
        splits_to_score(tmp_path, "all")


def test_a_named_split_takes_every_new_log_and_keeps_the_old_ones():
    labels = {"a": {"label": "healthy", "seed": 1}, "b": {"label": "frozen", "seed": 2, "split": "tuning"}}
    assert assign_splits(labels, "fresh") == 1
    assert (labels["a"]["split"], labels["b"]["split"]) == ("fresh", "tuning")
    halved = {name: {"label": "healthy", "seed": seed} for name, seed in (("c", 3), ("d", 4))}
    assert assign_splits(halved) == 2 and sorted(e["split"] for e in halved.values()) == ["heldout", "tuning"]
