"""`python main.py train-multitask [options]`: the note's command, a thin alias of `stockpred-tui train`."""

import sys

from tui.cli import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["train-multitask"]:
        args = ["train", *args[1:]]
    sys.exit(main(args))
