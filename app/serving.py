"""`plateau serve --workers N`: N server processes, each listening on a socket of its own.

uvicorn's workers share one listening socket, and whichever worker wakes first accepts every
connection waiting: 30 of the 32 connections a client opened at once went to one worker, which had
a core for them all, while the other served two. With SO_REUSEPORT each worker has its own socket
and the kernel spreads new connections over them. Started with the `spawn` method (as uvicorn's
workers), restarted if one dies, stopped (SIGTERM, then after STOP_SECONDS, SIGKILL) with the
server."""

import logging
import multiprocessing
import signal
import socket
import time
from typing import Any

import uvicorn

log = logging.getLogger("uvicorn.error")

STOP_SECONDS = 30  # a worker finishes its requests (and stops its indexing process) meanwhile
RESTART_PAUSE = 1.0  # between restarts of a worker that keeps dying at once


def own_socket(host: str, port: int, shared: bool = True) -> socket.socket:
    """A socket bound to host:port; shared: one that the other workers' sockets may share
    (SO_REUSEPORT). OSError when the port is taken (unshared: by anyone, another Plateau too)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def run_worker(options: dict[str, Any]) -> None:
    """One worker: its own socket, then uvicorn's server on it (its signals, its graceful stop)."""
    config = uvicorn.Config(**options)
    uvicorn.Server(config).run(sockets=[own_socket(config.host, config.port)])


def serve_workers(workers: int, **options: Any) -> None:
    """Run `workers` worker processes with uvicorn.Config(**options) until SIGINT or SIGTERM."""
    # the port is free: said now, not by each worker. Bound unshared, since a shared socket would
    # join another server started with SO_REUSEPORT on this port, and the two would split its visitors
    own_socket(options["host"], options["port"], shared=False).close()
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=run_worker, args=(options,), daemon=False)
        process.start()
        return process

    processes = [start() for _ in range(workers)]
    log.info("%d processus de service démarrés [%s]", workers, ", ".join(str(p.pid) for p in processes))
    try:
        while not stopping:
            time.sleep(0.2)
            for n, process in enumerate(processes):
                if not process.is_alive() and not stopping:
                    log.warning(
                        "le processus de service [%s] s'est arrêté (code %s) : il est reparti",
                        process.pid,
                        process.exitcode,
                    )
                    time.sleep(RESTART_PAUSE)
                    processes[n] = start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
