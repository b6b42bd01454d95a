"""What the CLI verbs do: build and run a trainer (headless, detached, torchrun), list runs, diagnose, evaluate, export,
compare; also the device figures the dashboards show.

May import: every other engine package.
"""
