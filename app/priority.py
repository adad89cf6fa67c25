"""The CPU priority of batch work (`plateau ingest`, `reindex`): lower than a server's on the same
machine, so that its readers keep their latency while a batch runs."""

import os
from contextlib import suppress

# nice(1)'s scale: 10 leaves the server's processes (0) most of the CPU while a batch runs
BATCH_NICENESS = 10


def lower_priority() -> None:
    """This process at BATCH_NICENESS, unless it already runs lower (`nice -n 15 plateau ingest`)."""
    with suppress(OSError):
        if os.getpriority(os.PRIO_PROCESS, 0) < BATCH_NICENESS:
            os.setpriority(os.PRIO_PROCESS, 0, BATCH_NICENESS)
