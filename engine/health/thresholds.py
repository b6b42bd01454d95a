"""Every threshold the health rules use, in one place (the README's table is generated from the same names)."""

# From ../shared/notes/loss-not-changing.md
FROZEN_RELATIVE_CHANGE = 1e-3  # note: 0.347410 -> 0.347352 is a 1.7e-4 relative change, "basically zero"
FROZEN_EPOCHS_BEFORE_REMEDY = 10  # note: "Loss still not changing after 10 epochs? ... learning_rate: 0.002"
FROZEN_REMEDY_LR = 0.002
OVERFIT_GAP = 0.02  # note: "Train loss ≈ Val loss (gap < 0.02)"
OVERFIT_DROPOUT_STEP = 0.05  # note: "dropout: 0.35" from 0.3
EXPLODING_LOSS = 10.0  # note: "Loss explodes (goes to NaN or >10)"
EXPLODING_REMEDY_LR = 0.0005
HEALTHY_PACE_PER_5 = (0.01, 0.02)  # note: "Loss decreases by ~0.01-0.02 per 5 epochs"
OVERREG_WEIGHT_DECAY = 1e-3  # note: 10x its 1e-4
OVERREG_LR = 0.0005  # note: halved from 0.001
OVERREG_DROPOUT = 0.4
DRASTIC_FACTOR = 2.0  # note: "Small adjustments are better than drastic changes"
EARLY_STOPPING_PATIENCE = 30
EARLY_STOPPING_MIN_DELTA = 1e-5

# Measured evidence, beyond the note
BASELINE_SKILL_BAND = 0.02  # |1 - loss/baseline| below this is "no better than a constant"
COLLAPSE_PRED_STD = 0.05  # std of predicted returns, in target standard deviations
COLLAPSE_PROB_STD = 0.01  # std of predicted up-probabilities
UPDATE_RATIO_FROZEN = 1e-5  # ‖Δθ‖/‖θ‖ per step; healthy is around 1e-3
UPDATE_RATIO_TOO_LARGE = 1e-1
GRAD_VANISHING_FACTOR = 1e-3  # gradient norm relative to its running median
GRAD_EXPLODING_FACTOR = 10.0
DECAY_DOMINATES_RATIO = 1.0  # ‖λθ‖/‖∇L‖ above this in most groups, with a shrinking weight norm
DIVERGENCE_FACTOR = 4.0  # smoothed loss above 4x its best
SMOOTHING = 0.6  # EMA weight for divergence, as TensorBoard's smoothing slider
PLATEAU_EPOCHS = 10
PLATEAU_GAIN = 0.005  # best val loss improved by less than 0.5% of the baseline over PLATEAU_EPOCHS
OSCILLATION_EPOCHS = 8
OSCILLATION_AMPLITUDE = 0.05  # mean |Δ val| above 5% of the baseline with alternating signs
