"""The `plateau` command's entry point: `ingest` and `reindex` take the batch priority before
anything loads. They took it once loaded, and their start (0.3 s of imports, at each `plateau
ingest FILE`) ran at the server's priority: under `make load`, a tenth of the CPU its readers lost
to its writers."""

import sys

from app.priority import lower_priority

BATCH_COMMANDS = frozenset({"ingest", "reindex"})


def main() -> None:
    if BATCH_COMMANDS.intersection(sys.argv[1:2]):
        lower_priority()
    from app.cli import main as run_command  # everything else the command needs

    run_command()
