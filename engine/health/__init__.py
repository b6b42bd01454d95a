"""Health rules: a pure function from a History to findings, shared by live, replay and diagnose."""

from __future__ import annotations

from engine.health import evidence_rules, note_rules
from engine.health.findings import SEVERITY_ORDER, Finding, Suggestion
from engine.history import History

RULES = [
    note_rules.exploding, note_rules.frozen, note_rules.overfitting, note_rules.healthy, note_rules.over_regularised,
    note_rules.drastic_change, note_rules.early_stopping,
    evidence_rules.baseline_skill, evidence_rules.collapse, evidence_rules.step_size, evidence_rules.gradient,
    evidence_rules.decay_vs_gradient, evidence_rules.divergence, evidence_rules.plateau, evidence_rules.oscillation,
]


def evaluate(history: History) -> list[Finding]:
    """All rules on a history, most severe first (stable within a severity)."""
    findings = [rule(history) for rule in RULES]
    return sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity])


def top_suggestion(findings: list[Finding]) -> tuple[Finding, Suggestion] | None:
    """The remedy of the most severe finding that offers one."""
    for finding in findings:
        if finding.suggestion is not None and finding.severity in ("critical", "warning"):
            return finding, finding.suggestion
    return None


__all__ = ["Finding", "Suggestion", "evaluate", "top_suggestion", "SEVERITY_ORDER"]
