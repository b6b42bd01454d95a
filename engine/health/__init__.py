"""Health rules: pure functions from a History to findings, shared by live, replay and diagnose; one module per kind
of trouble they detect (explosion, stability, frozen with flat_loss, step_evidence, regularisation, overfitting,
baseline, knob_changes, progress), with every threshold and remedy value in thresholds.py.

May import: the top-level vocabulary, data/ and store/.
"""

from __future__ import annotations

from engine.health import (baseline, explosion, frozen, knob_changes, overfitting, progress, regularisation, stability,
                           step_evidence)
from engine.health.findings import SEVERITY_ORDER, Finding, Suggestion
from engine.health.passing import passing_phrase
from engine.health.remedies import gate
from engine.store.history import History

# Within a severity the first rule here ranks first: explosions and instability ahead of overfitting.
RULES = [
    explosion.exploding, explosion.divergence, stability.instability, frozen.frozen, step_evidence.step_size,
    baseline.leakage, regularisation.decay_vs_gradient, overfitting.overfitting, regularisation.over_regularised,
    baseline.baseline_skill, step_evidence.gradient, knob_changes.drastic_change, step_evidence.collapse,
    progress.plateau, progress.healthy, progress.early_stopping,
]


def run_rules(history: History) -> list[Finding]:
    """Every rule on a history, most severe first (stable within a severity), remedies gated on fresh evidence."""
    findings = [rule(history) for rule in RULES]
    return gate(history, sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity]))


def top_suggestion(findings: list[Finding]) -> tuple[Finding, Suggestion] | None:
    """The remedy of the most severe finding that offers one."""
    for finding in findings:
        if finding.suggestion is not None and finding.severity in ("critical", "warning"):
            return finding, finding.suggestion
    return None


__all__ = ["Finding", "Suggestion", "run_rules", "top_suggestion", "passing_phrase", "SEVERITY_ORDER", "RULES"]
