"""Running each task in a child process whose death the run survives.

A method that segfaults, calls ``os._exit`` or is killed for memory takes only
its own process down: the parent sees the child end without an answer and
turns the task into failure rows that name the signal or exit code
(`istdbench.runners.execute.died`), then goes on with the next task. Up to
``n_jobs`` children run at once.

Children come from a *forkserver*: a clean interpreter, started once per run
process with the suite imported, that forks one child per task. Forking the
run process itself would be cheaper still but is unsafe: a child of a process
that has used OpenMP (torch) hangs in its first parallel region. Methods
registered at run time (a plugin module, a test) are registered again in the
child from their module and class name.

A child ends when its parent does: it holds one end of a pipe whose other end
only the parent holds, and a watchdog thread exits the child as soon as that
end reports EOF (the parent died, even by ``kill -9``). On Linux the child
also asks the kernel for SIGKILL when its forkserver parent dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from .env import inherit_environment, static_environment
from .execute import JobOutcome, died, run_task
from .jobs import Task

log = logging.getLogger(__name__)

PRELOAD = ["istdbench.runners._preload"]
"""Modules the forkserver imports once, so that each child starts with them loaded."""

PARENT_GONE_EXIT = 70
"""Exit status of a child whose parent died (the watchdog's ``os._exit``)."""

_PR_SET_PDEATHSIG = 1


@dataclass
class _Running:
    task: Task
    process: Any
    conn: Connection
    started: float = field(default_factory=time.perf_counter)


def context() -> mp.context.BaseContext:
    """The forkserver context (spawn where there is none), with the suite preloaded."""
    try:
        ctx = mp.get_context("forkserver")
    except ValueError:  # no forkserver on this platform (Windows)
        return mp.get_context("spawn")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def run_isolated(tasks: Iterable[Task], n_jobs: int = 1) -> Iterator[list[JobOutcome]]:
    """Run each task in its own child process, ``n_jobs`` at a time; yield outcomes as tasks finish.

    A child that dies without answering yields failure rows for its task's
    jobs; an interrupted parent (Ctrl-C, an error while storing) kills the
    children still running before it returns.
    """
    pending = list(tasks)
    pending.reverse()
    ctx = context()
    running: dict[Connection, _Running] = {}
    try:
        while pending or running:
            while pending and len(running) < n_jobs:
                item = _start(ctx, pending.pop())
                running[item.conn] = item
            ready = wait([*running, *(r.process.sentinel for r in running.values())])
            for item in _finished(running, ready):
                yield _collect(item)
    finally:
        for item in running.values():
            with contextlib.suppress(Exception):
                item.process.kill()
                item.process.join(5)
            item.conn.close()


def _start(ctx: mp.context.BaseContext, task: Task) -> _Running:
    parent_end, child_end = ctx.Pipe(duplex=True)
    plugins = _plugin_methods(task)
    level = logging.getLogger().getEffectiveLevel()
    process = ctx.Process(
        target=_child_main,
        args=(task, child_end, plugins, level, static_environment(), dict(os.environ)),
        name=f"istdbench-job-{task.first.detection_key}",
        daemon=True,
    )
    process.start()
    child_end.close()  # from now on only the child holds it: EOF on ours means the child is gone
    return _Running(task, process, parent_end)


def _finished(running: dict[Connection, _Running], ready: list[Any]) -> list[_Running]:
    """Remove and return the running items whose answer arrived or whose process ended."""
    done = []
    for conn, item in list(running.items()):
        if conn in ready or item.process.sentinel in ready:
            done.append(running.pop(conn))
    return done


def _collect(item: _Running) -> list[JobOutcome]:
    """The child's outcomes, or failure rows saying how it died."""
    outcomes, unreadable = None, ""
    try:
        if item.conn.poll():
            outcomes = item.conn.recv()
    except (EOFError, OSError):  # it died while answering
        outcomes = None
    except Exception as exc:  # an answer that does not unpickle here: the job's result is lost, not the run
        unreadable = f" after an answer that could not be read ({type(exc).__name__}: {exc})"
    finally:
        item.conn.close()
    item.process.join(None if outcomes is None and not unreadable else 10)
    if outcomes is not None:
        return outcomes
    how = describe_exit(item.process.exitcode) + unreadable
    return died(item.task, how, time.perf_counter() - item.started)


def describe_exit(code: int | None) -> str:
    """``killed by signal 11 (SIGSEGV)`` or ``exited with status 3`` for a child's exit code."""
    if code is None:
        return "ended without an exit status"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown signal"
        return f"killed by signal {-code} ({name})"
    return f"exited with status {code}"


def _plugin_methods(task: Task) -> dict[str, tuple[str, str]]:
    """name -> (module, class) of the task's method when it is not one the package registers itself."""
    from istdbench.core.registry import get_method

    cls = get_method(task.first.method)
    if cls.__module__.startswith("istdbench."):
        return {}
    return {task.first.method: (cls.__module__, cls.__qualname__)}


def _child_main(
    task: Task,
    conn: Connection,
    plugins: dict[str, tuple[str, str]],
    level: int,
    env: dict[str, str],
    environ: dict[str, str],
) -> None:
    """Entry point of a child: watch the parent, run the task, send the outcomes back.

    ``environ`` is the parent's environment when the job started: the forkserver
    keeps the one of its own start, which may predate e.g. ``$ISTDBENCH_WEIGHTS``.
    The parent's import path needs no such care: multiprocessing sends it with
    every child's preparation data.
    """
    answered = threading.Event()
    _watch_parent(conn, answered)
    os.environ.clear()
    os.environ.update(environ)
    inherit_environment(env)  # same machine and code as the parent: no git call per job
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    _register_plugins(plugins)
    outcomes = run_task(task)
    answered.set()  # from here on the parent closing its end is expected: let the process end normally
    with contextlib.suppress(OSError):  # the parent died meanwhile: nobody to answer
        conn.send(outcomes)


def _register_plugins(plugins: dict[str, tuple[str, str]]) -> None:
    import importlib

    from istdbench.core.registry import _REGISTRY, list_methods, register

    list_methods()  # the built-ins and entry points first
    for name, (module, qualname) in plugins.items():
        if name in _REGISTRY:
            continue
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        register(name)(obj)


def _watch_parent(conn: Connection, answered: threading.Event) -> None:
    """Exit this child as soon as the parent's end of ``conn`` closes before it has answered (the parent died).

    After the answer the child ends normally, so that multiprocessing's finalizers release what the job
    created (semaphores of progress bars, for one).
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    def watch() -> None:
        try:
            while not conn.poll(None):
                pass
        except (EOFError, OSError):
            pass
        if not answered.is_set():
            os._exit(PARENT_GONE_EXIT)

    threading.Thread(target=watch, name="istdbench-parent-watchdog", daemon=True).start()
