"""The training loop and what it needs: the model, the trainer and its collaborators (run_resources: the run's
directory, log and endpoint; steering: controls at step boundaries; live_knobs; early_stop; checkpoint_policy;
epoch: an epoch in progress and its outcome; training_state: what a checkpoint holds), evaluation, test_evaluation
(the held-out split, scored once from best.pt), probes, device_stats (the figures of its stats events), schedule,
threads, allocator and torchrun support.

May import: everything above it (vocabulary, data/, store/, health/, control/); never commands/.
"""
