"""The training loop and what it needs: the model, the trainer and its steering, checkpoint state, evaluation,
probes, schedule, threads, allocator and torchrun support.

May import: everything above it (vocabulary, data/, store/, health/, control/); never commands/.
"""
