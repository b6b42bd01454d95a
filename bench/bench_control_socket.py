"""The control socket's cost on the training thread: RunLog + sink per event with 0, 1 and 4 attached clients.

Prints, per client count: the sink call alone (µs/event, on the training thread), the whole emit loop's wall time and
this process's CPU time (training thread + server thread, not the clients) against RunLog alone, and how long after
the last write every client had it. Clients are separate processes, as `attach` is; on a small shared box their
parsing competes for the same cores, which shows in the wall time but not in this process's CPU.
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

from engine.control.server import ControlServer
from engine.control.channel import ControlChannel
from engine.events import StepEvent
from engine.store.log_writer import RunLog

EVENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
ROUNDS = 5


CLIENT = """
import sys, threading
from engine.control.client import ControlClient
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


def one_round(root: Path, clients: int, serve: bool) -> tuple[float, float, float, float]:
    """(sink µs/event, emit µs/event, seconds until every client process had the last event, process CPU µs/event)."""
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
    began, cpu_began = time.perf_counter(), time.process_time()
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
    cpu = time.process_time() - cpu_began  # this process only: training thread + server thread, not the clients
    for proc in procs:
        proc.wait(30)
    log.close()
    server.close()
    return sink_time / EVENTS * 1e6, (written - began) / EVENTS * 1e6, delivered, cpu / EVENTS * 1e6


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        alone = [one_round(root, 0, False) for _ in range(ROUNDS)]
        base, base_cpu = statistics.median(r[1] for r in alone), statistics.median(r[3] for r in alone)
        print(f"{EVENTS} step events, median of {ROUNDS} rounds; RunLog.write alone: {base:.2f} µs/event wall, "
              f"{base_cpu:.2f} µs/event CPU")
        for clients in (0, 1, 4):
            rounds = [one_round(root, clients, True) for _ in range(ROUNDS)]
            sink, emit, tail, cpu = (statistics.median(r[i] for r in rounds) for i in range(4))
            print(f"{clients} clients: sink call {sink:.2f} µs/event; RunLog+sink {emit:.2f} µs/event wall "
                  f"({emit - base:+.2f}), this process's CPU {cpu:.2f} µs/event ({cpu - base_cpu:+.2f}); "
                  f"last event at every client {tail * 1000:.1f} ms after its write")


if __name__ == "__main__":
    main()
