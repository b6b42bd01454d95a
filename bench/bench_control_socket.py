"""The control socket's cost on the training thread: RunLog + sink per event with 0, 1 and 4 attached clients.

Prints, per client count: the sink call alone (µs/event), the whole emit (RunLog write + sink) against RunLog alone
(the server thread competes for the GIL, so this is the number training feels), and how long after the last write
every client had it. Clients are separate processes, as `attach` is.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.control_server import ControlServer
from engine.controls import ControlChannel
from engine.events import StepEvent
from engine.runlog import RunLog

EVENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
ROUNDS = 5


CLIENT = """
import sys, threading
from engine.control_client import ControlClient
from engine.events import StepEvent
client = ControlClient(sys.argv[1], client_name="bench")
history, _ = client.read_backlog()
seen, done = [len(history.step_index)], threading.Event()
def count(events):
    seen[0] += sum(isinstance(e, StepEvent) for e in events)
    if seen[0] >= int(sys.argv[2]):
        done.set()
client.start(count, on_close=lambda reason: done.set())
print("ready", flush=True)
done.wait()
print(seen[0], flush=True)
"""


def one_round(root: Path, clients: int, serve: bool) -> tuple[float, float, float]:
    """(sink µs/event, emit µs/event, seconds from the last write until every client process had it)."""
    run_dir = Path(tempfile.mkdtemp(dir=root))
    log = RunLog(run_dir)
    server = ControlServer(run_dir, ControlChannel(), log.path, "bench")
    if serve:
        server.start()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    procs = [subprocess.Popen([sys.executable, "-c", CLIENT, str(server.path), str(EVENTS)], stdout=subprocess.PIPE,
                              text=True, env=env) for _ in range(clients)]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready"
    sink_time = 0.0
    began = time.perf_counter()
    for step in range(EVENTS):
        event = StepEvent(1, step % 100, 100, step, 0.5 + step * 1e-6)
        log.write(event)
        if serve:
            t0 = time.perf_counter()
            server(event)
            sink_time += time.perf_counter() - t0
    written = time.perf_counter()
    for proc in procs:
        assert int(proc.stdout.readline()) == EVENTS
    delivered = time.perf_counter() - written
    for proc in procs:
        proc.wait(30)
    log.close()
    server.close()
    return sink_time / EVENTS * 1e6, (written - began) / EVENTS * 1e6, delivered


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = statistics.median(one_round(root, 0, False)[1] for _ in range(ROUNDS))
        print(f"{EVENTS} step events, median of {ROUNDS} rounds; RunLog.write alone: {base:.2f} µs/event")
        for clients in (0, 1, 4):
            rounds = [one_round(root, clients, True) for _ in range(ROUNDS)]
            sink = statistics.median(r[0] for r in rounds)
            emit = statistics.median(r[1] for r in rounds)
            tail = statistics.median(r[2] for r in rounds)
            print(f"{clients} clients: sink {sink:.2f} µs/event, RunLog+sink {emit:.2f} µs/event "
                  f"(+{emit - base:.2f}), all delivered {tail * 1000:.1f} ms after the last write")


if __name__ == "__main__":
    main()
