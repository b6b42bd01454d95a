"""The training engine, without any UI. Packages by role, each importing only from the rows above it:

- top level (the shared vocabulary): events, config (+ config_file), knobs, errors, safe_text, file_kinds,
  event_text (+ held_out_text, the test scores in words), step_meter, early_stopping
- data/: prices, the windows built from them and the direction head's strategy reading
- store/: what a run leaves on disk (log, checkpoints) and how it is read back
- health/: the rules, pure functions from a History to findings
- control/: how controls reach a run: the in-process channel, the socket, the signals
- training/: the loop, the model and what it needs to run
- commands/: what the CLI verbs do

Nothing in engine/ imports textual or tui (tests/test_import_hygiene.py and tests/test_layout.py hold it).
"""
