"""What the CLI verbs do: build and run a trainer (headless with its progress and verdict lines, detached, torchrun),
list runs and resolve run ids, diagnose, evaluate, export, compare.

May import: every other engine package.
"""
