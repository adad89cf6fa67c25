"""`plateau serve --workers N`: N server processes, each listening on a socket of its own.

uvicorn's workers share one listening socket, and whichever worker wakes first accepts every
connection waiting: 30 of the 32 connections a client opened at once went to one worker, which had
a core for them all, while the other served two. With SO_REUSEPORT each worker has its own socket
and the kernel spreads new connections over them. Started with the `spawn` method (as uvicorn's
workers), restarted if one dies (the server stops if they die at their start, again and again),
stopped with the server (SIGTERM, then SIGKILL for those still running after STOP_SECONDS)."""

import logging
import multiprocessing
import signal
import socket
import time
from contextlib import suppress
from typing import Any

import uvicorn

log = logging.getLogger("uvicorn.error")

STOP_SECONDS = 30  # for all the workers together to finish their requests (then SIGKILL)
RESTART_PAUSE = 1.0  # before a dead worker is started again
EARLY_DEATH_SECONDS = 30.0  # a worker that dies this soon after its start died of starting
EARLY_DEATHS = 3  # in a row: the server stops (a bad setting, a database it cannot open)


class PortUnavailable(Exception):
    """The address cannot be listened on; the message says why, in French."""


def address(host: str, port: int) -> tuple[int, tuple]:
    """The socket family and address of host:port, the first that getaddrinfo gives."""
    family, _, _, _, where = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    return family, where


def own_socket(host: str, port: int, shared: bool = True) -> socket.socket:
    """A socket bound to host:port; shared: one that the other workers' sockets may share
    (SO_REUSEPORT). OSError when the port is taken (unshared: by anyone, another Plateau too)."""
    family, where = address(host, port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(where)
    except OSError:
        sock.close()
        raise
    return sock


def check_port(host: str, port: int) -> None:
    """PortUnavailable unless host:port can be listened on now. Bound unshared: a shared socket
    would join another server started with SO_REUSEPORT on this port, and the two would split its
    visitors."""
    try:
        own_socket(host, port, shared=False).close()
    except socket.gaierror as exc:
        raise PortUnavailable(f"adresse inconnue ({exc.strerror or exc})") from exc
    except OSError as exc:
        raise PortUnavailable(f"le port est déjà pris ou interdit ({exc.strerror or exc})") from exc


def run_worker(options: dict[str, Any]) -> None:
    """One worker: its own socket, then uvicorn's server on it (its signals, its graceful stop)."""
    config = uvicorn.Config(**options)
    # uvicorn raises the Ctrl-C it handled again once stopped: not a traceback per worker
    with suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[own_socket(config.host, config.port)])


def serve_workers(workers: int, **options: Any) -> int:
    """Run `workers` worker processes with uvicorn.Config(**options) until SIGINT or SIGTERM (0),
    or until workers die at their start EARLY_DEATHS times in a row (1). Call check_port() first."""
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}

    def start() -> tuple[multiprocessing.process.BaseProcess, float]:
        process = context.Process(target=run_worker, args=(options,), daemon=False)
        process.start()
        return process, time.monotonic()

    processes = [start() for _ in range(workers)]
    early_deaths = 0
    try:
        while not stopping:
            time.sleep(0.2)
            for n, (process, started) in enumerate(processes):
                if stopping or process.is_alive():
                    continue
                early_deaths = early_deaths + 1 if time.monotonic() - started < EARLY_DEATH_SECONDS else 0
                if early_deaths >= EARLY_DEATHS:
                    log.error("les processus de service meurent à leur démarrage : arrêt (voir les messages ci-dessus)")
                    return 1
                log.warning(
                    "le processus de service [%s] s'est arrêté (code %s) : il est reparti",
                    process.pid,
                    process.exitcode,
                )
                time.sleep(RESTART_PAUSE)
                if not stopping:
                    processes[n] = start()
        return 0
    finally:
        for process, _ in processes:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for process, _ in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
