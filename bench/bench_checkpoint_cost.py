"""Cost of the automatic checkpoints on the bundled default: one epoch's time vs one last.pt / best.pt write."""

import statistics
import sys
import tempfile
import time

from engine.commands.trainer_setup import RunOptions, build_trainer

WRITES = int(sys.argv[1]) if len(sys.argv) > 1 else 10


def main() -> None:
    """Train two epochs of the default config, then time checkpoint writes against the second epoch."""
    with tempfile.TemporaryDirectory() as logs:
        options = RunOptions(config="config.yaml", epochs=2,
                             overrides=[f"log_dir={logs}", "checkpoint.every_epochs=0", "control_socket=false"])
        trainer = build_trainer(options)
        epochs = []
        trainer.sinks.append(lambda event: epochs.append(event.seconds) if event.kind == "epoch" else None)
        trainer.run()
        trainer.sinks = []  # the run's log is closed; time the write alone
        writes = []
        for _ in range(WRITES):
            started = time.perf_counter()
            trainer.save("periodic", "last.pt")
            writes.append(time.perf_counter() - started)
    epoch_s, write_s = epochs[-1], statistics.median(writes)
    print(f"epoch (steady state): {epoch_s:.2f} s; last.pt write: median {write_s * 1000:.1f} ms "
          f"(min {min(writes) * 1000:.1f}, max {max(writes) * 1000:.1f}) over {WRITES} writes")
    print(f"one write per epoch = {write_s / epoch_s:.2%} of an epoch; with best.pt too (every val gain) "
          f"at most {2 * write_s / epoch_s:.2%}")


if __name__ == "__main__":
    main()
