"""How controls reach a run: the in-process channel, the run's Unix socket (protocol; the server with its listener,
peers, connection states, log feed and pause view; the client) and the signals that stop or detach it.

May import: the top-level vocabulary, data/, store/ and health/.
"""
