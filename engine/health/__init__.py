"""Health rules: a pure function from a History to findings, shared by live, replay and diagnose.

May import: the top-level vocabulary, data/ and store/.
"""

from __future__ import annotations

from engine.health import evidence_rules, note_rules, overfitting, significance, stability_rules
from engine.health.findings import SEVERITY_ORDER, Finding, Suggestion
from engine.health.remedies import gate
from engine.store.history import History

# Within a severity the first rule here ranks first: explosions and instability ahead of overfitting.
RULES = [
    note_rules.exploding, stability_rules.divergence, stability_rules.instability, note_rules.frozen, evidence_rules.step_size,
    significance.leakage, evidence_rules.decay_vs_gradient, overfitting.overfitting, note_rules.over_regularised,
    significance.baseline_skill, evidence_rules.gradient, note_rules.drastic_change, evidence_rules.collapse,
    evidence_rules.plateau, note_rules.healthy, note_rules.early_stopping,
]


def evaluate(history: History) -> list[Finding]:
    """All rules on a history, most severe first (stable within a severity), remedies gated on fresh evidence."""
    findings = [rule(history) for rule in RULES]
    return gate(history, sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity]))


def top_suggestion(findings: list[Finding]) -> tuple[Finding, Suggestion] | None:
    """The remedy of the most severe finding that offers one."""
    for finding in findings:
        if finding.suggestion is not None and finding.severity in ("critical", "warning"):
            return finding, finding.suggestion
    return None


__all__ = ["Finding", "Suggestion", "evaluate", "top_suggestion", "SEVERITY_ORDER", "RULES"]
