"""Two processes taking turns: each job is prepared side by side with the other process's work,
and written one at a time, in job order.

The register import (app/cases/importer.py) spends about as long building and sealing a batch's
rows as writing them. With `in_turns` this process and a forked child take the batches in turn
(job 0 here, job 1 in the child, job 2 here...): each prepares its next batch while the other
writes, and a process writes only once the one before it has committed, so the batches reach the
database in the order of the file (case numbers follow the rows, the audit chain reads in order)
and never two at once (SQLite has one writer; the case-number counter and the audit head would
make PostgreSQL writers wait on each other anyway).

No database connection crosses the fork: the caller has committed, the engine's pool is emptied
first (the session's objects stay, and are read again as needed) and each process opens its own
(a SQLite connection carried into a child can corrupt the file; a PostgreSQL one would
interleave two processes' messages on one socket). The child ignores Ctrl-C: the parent
gets it, stops the child after the job it is writing, and gathers what it wrote. Either process
stopping with an error stops the other at its next turn; the parent then raises TurnsFailed
with the child's error, or its own error, after every result of a job written was handed to
`done`, so the caller can say exactly what was saved.

Only on Linux (fork), with two CPUs or more, and not for an in-memory SQLite database, which a
child could not see: `available()` says so, and the caller then runs its jobs one after another.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import NoReturn

from app.extensions import db

WAIT = 0.1  # seconds between looks at the other process while waiting for a turn
STOP_WAIT = 60  # seconds the parent waits for a stopped child to say what it wrote


class TurnsFailed(RuntimeError):
    """The child process stopped with an error (its traceback is the message), or stopped
    without a word."""


def available() -> bool:
    """Whether in_turns may run here: Linux, two CPUs or more, a database another process
    can open."""
    if not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2:
        return False
    url = db.engine.url
    return not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))


def in_turns(
    jobs: Sequence,
    prepare: Callable[[object], object],
    write: Callable[[object, object], object],
    done: Callable[[int, object], None],
) -> None:
    """For each job j, `write(job, prepare(job))`, job j in this process when j is even and in a
    forked child when odd; the writes in job order, one at a time. `prepare` runs while the other
    process writes; `write` commits what it writes and returns a result that can be pickled.
    `done(j, result)` is called in this process for every job written, the child's as they
    arrive (not strictly in job order)."""
    context = multiprocessing.get_context("fork")
    turns = (context.Semaphore(1), context.Semaphore(0))
    stop = context.Event()
    inbox, outbox = context.Pipe(duplex=False)
    session = db.session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("in_turns: commit the session's changes first")
    session.commit()  # ends a read the session began; its objects stay, to be read again
    db.engine.dispose()  # no connection crosses the fork
    parent = os.getpid()
    child = context.Process(
        target=_child,
        args=(jobs, prepare, write, turns, stop, outbox, parent),
        name="import-turns",
        daemon=True,
    )
    child.start()
    outbox.close()
    heard = _Inbox(inbox, child, done)
    try:
        for j in range(0, len(jobs), 2):
            prepared = prepare(jobs[j])
            while not turns[0].acquire(timeout=WAIT):
                heard.check()
                if stop.is_set():  # the child failed: it says why
                    heard.raise_failure()
            try:
                result = _write_in_turn(write, jobs[j], prepared, stop, turns[1])
            except _Stopped:
                heard.raise_failure()
            done(j, result)
            heard.check()
        heard.until_end()
        heard.check()
    except BaseException:
        stop.set()
        heard.until_end(timeout=STOP_WAIT)  # what the child wrote, for the caller
        raise
    finally:
        child.join(timeout=STOP_WAIT)
        if child.is_alive():
            child.kill()
            child.join()
        inbox.close()


class _Inbox:
    """The child's messages: ("done", j, result) for each job written, then its last word,
    ("end",) or ("failed", traceback)."""

    def __init__(self, connection, child, done):
        self.connection, self.child, self.done = connection, child, done
        self.ended = False
        self.failure: str | None = None

    def listen(self, timeout: float = 0) -> None:
        """Hand over every result that has arrived (waiting up to `timeout` for the first)."""
        while not self.ended and self.connection.poll(timeout):
            try:
                message = self.connection.recv()
            except EOFError:  # the child is gone without its last word
                break
            if message[0] == "done":
                self.done(message[1], message[2])
            else:
                self.ended = True
                self.failure = message[1] if message[0] == "failed" else None
            timeout = 0

    def check(self) -> None:
        """Hand over what has arrived; raise if the child failed, or is gone without a word."""
        self.listen()
        if self.failure is not None:
            self.raise_failure()
        if not self.ended and not self.child.is_alive():
            self.listen()  # its last words may have come as it went
            if self.failure is not None or not self.ended:
                self.raise_failure()

    def raise_failure(self) -> NoReturn:
        """The child stopped both: wait for its last word, then raise it."""
        self.until_end(timeout=STOP_WAIT)
        if self.failure is not None:
            raise TurnsFailed(f"the import's second process failed:\n{self.failure}")
        code = self.child.exitcode
        raise TurnsFailed(f"the import's second process stopped (exit code {code})")

    def until_end(self, timeout: float | None = None) -> None:
        """Wait for the child's last word (every result of it handed over), until it is gone
        or for `timeout` seconds at most."""
        waited = 0.0
        while not self.ended:
            self.listen(timeout=WAIT)
            if not self.ended and not self.child.is_alive():
                self.listen()
                return
            waited += WAIT
            if timeout is not None and waited >= timeout:
                return


def _child(jobs, prepare, write, turns, stop, outbox, parent: int) -> None:
    """The child's side: the odd jobs, then its last word; it never returns (os._exit, so
    nothing inherited from the parent is torn down twice)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    code = 0
    try:
        for j in range(1, len(jobs), 2):
            if stop.is_set():
                break
            prepared = prepare(jobs[j])
            while not turns[1].acquire(timeout=WAIT):
                if stop.is_set() or os.getppid() != parent:
                    raise _Stopped
            result = _write_in_turn(write, jobs[j], prepared, stop, turns[0])
            outbox.send(("done", j, result))
        outbox.send(("end",))
    except _Stopped:
        with suppress(Exception):
            outbox.send(("end",))
    except BaseException:
        code = 1
        stop.set()
        with suppress(Exception):
            db.session.rollback()
        with suppress(Exception):
            outbox.send(("failed", traceback.format_exc()))
    finally:
        with suppress(Exception):
            db.session.close()
            db.engine.dispose()
        with suppress(Exception):
            outbox.close()
        os._exit(code)


def _write_in_turn(write, job, prepared, stop, next_turn):
    """Write one job in this process's turn, then hand the turn over; a failure stops both
    processes (the other sees `stop` once it has the turn)."""
    try:
        if stop.is_set():
            raise _Stopped
        return write(job, prepared)
    except BaseException:
        stop.set()
        raise
    finally:
        next_turn.release()


class _Stopped(Exception):
    """The parent stopped (or is gone): the child writes nothing more."""
