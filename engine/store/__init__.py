"""What a run leaves on disk and how it is read back: the run directory and its append-only log, checkpoints,
the History that events fold into, and readers for our logs, foreign CSVs and logs still being written.

May import: the top-level vocabulary and data/.
"""
