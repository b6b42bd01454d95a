"""Every threshold and remedy value the health rules use, in one place; tests/test_health_rules.py checks the README's
table names the same rules."""

# From the troubleshooting guide (docs/health-rules.md)
FROZEN_RELATIVE_CHANGE = 1e-3  # guide: 0.347410 -> 0.347352 is a 1.7e-4 relative change, "basically zero"
FROZEN_STREAK = 3  # flat epoch-to-epoch changes in a row before "frozen": one flat epoch is a converging run's normal
FROZEN_EPOCHS_BEFORE_REMEDY = 10  # guide: "Loss still not changing after 10 epochs? ... learning_rate: 0.002"
FROZEN_REMEDY_LR = 0.002  # guide: "learning_rate: 0.002", never more than a doubling
OVERFIT_GAP = 0.02  # guide: "Train loss ≈ Val loss (gap < 0.02)"; a constant gap above it is only info
OVERFIT_DROPOUT_STEP = 0.05  # guide: "dropout: 0.35" from 0.3
EXPLODING_LOSS = 10.0  # guide: "Loss explodes (goes to NaN or >10)", read against the run's own scale
EXPLODING_REMEDY_LR = 0.0005  # guide: "reduce lr", to 0.0005 when above it, else a halving
EXPLODING_SCALE_FACTOR = 5.0  # a finite loss above 10 counts only when it is also 5x the run's own scale ...
EXPLODING_SCALE_SKIP = 3  # ... measured without the first epochs, which carry the untrained model's loss
HEALTHY_PACE_PER_5 = (0.01, 0.02)  # guide: "Loss decreases by ~0.01-0.02 per 5 epochs"
HEALTHY_WINDOW = 5  # the epochs over which that pace is measured
HEALTHY_SLOW_SHARE = 0.5  # half the slowest of that pace still counts as a healthy descent
OVERREG_WEIGHT_DECAY = 1e-3  # guide: 10x its 1e-4
OVERREG_LR = 0.0005  # guide: halved from 0.001
OVERREG_DROPOUT = 0.4
OVERREG_DROPOUT_ALONE = 0.8  # dropout this high with falling skill is too much whatever the weight decay
REMEDY_WEIGHT_DECAY = 1e-4  # guide: "keep weight_decay low (0.0001)"
DRASTIC_FACTOR = 2.0  # guide: "Small adjustments are better than drastic changes"
DRASTIC_KNOBS = 3  # three knobs at one step warn; two small steps (the documented pause-and-tweak) are info
DRASTIC_AGE_EPOCHS = 5  # a change older than this many epochs no longer makes a finding
EARLY_STOPPING_PATIENCE = 30
EARLY_STOPPING_MIN_DELTA = 1e-5

# Trends judged against the run's own noise (MAD of epoch-to-epoch changes), never a fixed gap alone
NOISE_SIGMAS = 3.0  # a change must exceed this many noise σ to count
OVERFIT_MIN_RISE = 0.02  # and 2% of the loss scale (baseline, or first/val loss): the materiality band of BASELINE_SKILL_BAND
OVERFIT_RISE_BAND = 0.05  # a rise from the best val must also exceed 5% of the scale: val a few % above its best is its own spread
OVERFIT_MIN_AFTER_BEST = 2  # epochs after the best val before a rise is judged
OVERFIT_GAP_WINDOW = 10  # epochs over which a growing gap is measured
OVERFIT_GAP_GROWTH = 0.05  # gap growth over the window, as a share of the loss scale
FAR_ABOVE_BEST = 2.0  # losses this many times their best (and far above the scale) mean "still unstable"
OVERFIT_GAP_MIN_EPOCHS = 8  # epochs in the window before a growing gap is judged
OVERFIT_GAP_RISING_SHARE = 0.7  # share of epochs in the window on which the gap grew
RECENT_EPOCHS = 3  # the last epochs whose median (or mean) stands for "now"
CONVERGED_DESCENT = 0.05  # a flat loss after a descent of this share of the scale is converged, not frozen
LR_COLLAPSE_FACTOR = 1e-2  # lr below 1% of the lr at which the loss last moved: the schedule cut the step
LR_COLLAPSE_STILL_FALLING = 1e-2  # a loss falling > 1% per epoch (10x "flat") right before it went flat was stopped: converging slows first
FROZEN_DRIFT_SHARE = 0.8  # a streak whose steps go this much one way, and add up to more than "flat", is a slow descent
VAL_UNCHANGED = 1e-6  # val within this relative band through a streak is unchanged to float precision: the weights do not move

# Instability: the step is too large
UNSTABLE_MIN_EPOCHS = 3  # instability and divergence need this many epochs of train loss
UNSTABLE_RATIO = 3.0  # recent train loss several times its best ...
UNSTABLE_EXCESS = 0.25  # ... by at least this share of the loss scale (losses near zero do not count)
UNSTABLE_EARLY_FACTOR = 10.0  # a first epoch above 10x the scale of the rest of the run
UNSTABLE_JUMP = 0.5  # an epoch's train loss above its predecessor by 50%, beyond 3 noise σ, and ...
UNSTABLE_JUMP_EXCESS = 0.10  # ... by 10% of the scale: a jump, which a falling epoch mean does not make
UNSTABLE_JUMPS = 2  # jumps (or jumps plus a huge early loss) before warning
RECOVERED_EPOCHS = 3  # a jump this many epochs old, with the losses back at their level before it, is history (info) ...
RECOVERED_SWING_FACTOR = 2.0  # ... unless a loss swings there by more than twice its moves before the jump (and 10%)
LATE_WINDOW = 10  # the recent epochs against whose own best and scale late instability is judged ...
LATE_MIN_EPOCHS = 5  # ... once they hold this many epochs with both losses
OSCILLATION_WINDOW = 10  # val swings are judged over its last 10 points ...
OSCILLATION_MIN_EPOCHS = 8  # ... once there are 8
OSCILLATION_AMPLITUDE = 0.10  # mean |Δ val| per epoch above 10% of the scale, with ...
OSCILLATION_FLIPS = 0.6  # ... across the run: this share of sign flips of Δval; or over the recent points: ...
OSCILLATION_NET_SHARE = 0.4  # ... the net change keeping less than 40% of the movement (the rest cancels: swings) ...
SMOOTH_NET_SHARE = 0.8  # ... while train's net change keeps less than 80% of its own (overfitting's train falls one way)
DIVERGENCE_FACTOR = 4.0  # smoothed train loss above 4x its best (and far above the scale): critical
SMOOTHING = 0.6  # EMA weight for divergence, as TensorBoard's smoothing slider

# Remedies beyond the guide's fixed values
REMEDY_FACTOR = 2.0  # a knob is doubled or halved, never moved further at once
DEFAULT_LR = 0.001  # the config's default, assumed when a log does not say its learning rate

# Measured evidence, beyond the guide
BASELINE_SKILL_BAND = 0.02  # a significant deficit must also be this material to warn
COLLAPSE_PRED_STD = 0.05  # std of predicted returns, in target standard deviations
COLLAPSE_PROB_STD = 0.01  # std of predicted up-probabilities
UPDATE_RATIO_FROZEN = 1e-5  # ‖Δθ‖/‖θ‖ per step; healthy is around 1e-3
UPDATE_RATIO_TOO_LARGE = 3e-2  # median of the last 3 epochs; Adam at lr 0.3-1 on the LSTM measures 0.05-0.1
GRAD_VANISHING_FACTOR = 1e-3  # gradient norm relative to its running median
GRAD_EXPLODING_FACTOR = 10.0
GRAD_MIN_EPOCHS = 5  # a running median of fewer epochs is not a baseline
DECAY_DOMINATES_RATIO = 1.0  # ‖λθ‖/‖∇L‖ above this in most groups
DECAY_NORM_DROP = 0.5  # weight norm below half its peak
DECAY_MIN_SIGNS = 2  # signs in one epoch (ratio, shrunken norm, collapse) that establish it
PLATEAU_EPOCHS = 10
PLATEAU_GAIN = 0.005  # best val loss improved by less than 0.5% of the scale over PLATEAU_EPOCHS

# Significance and plausibility
SIGNIFICANCE_MIN_EPOCHS = 3  # before this the first epochs' skill says little about what the run learns
LEAK_ACCURACY = 0.60  # the 95% lower bound of daily direction accuracy above this: published models reach the mid-50s
LEAK_SKILL = 0.10  # or the lower bound of skill above 10% of a constant predictor's loss
CONSTANT_LEVELS = {"0.5·ln 2 (BCE of a coin flip × clf_weight 0.5)": 0.34657, "ln 2 (BCE of a coin flip)": 0.69315,
                   "1 + 0.5·ln 2 (unit-variance MSE + coin-flip BCE × 0.5)": 1.34657,
                   "1 + ln 2 (unit-variance MSE + coin-flip BCE)": 1.69315, "1.0 (MSE of the mean on a unit-variance target)": 1.0,
                   "0.25 (MSE of p=0.5 on 0/1 labels)": 0.25}
CONSTANT_LEVEL_TOLERANCE = 0.01  # within 1% of a level (the guide's 0.3474 vs 0.3466 is 0.2%)
