"""Two processes taking turns: each job is prepared side by side with the other process's work,
and written one at a time, in job order.

The register import (app/cases/import_turns.py) spends about as long building and sealing a
batch's rows as writing them. With a `Pair`, this process and a forked child first tell each
other what they found (each checked half the file), then take the batches in turn (job 0 here,
job 1 in the child, job 2 here...): each prepares its next batch while the other
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

from flask_babel import lazy_gettext as _l

from app.extensions import db

WAIT = 0.1  # seconds between looks at the other process while waiting for a turn
STOP_WAIT = 60  # seconds the parent waits for a stopped child to say what it wrote


class TurnsFailed(RuntimeError):
    """The child process stopped with an error, or without a word: the message says so in one
    line (with the child's error), `details` holds the child's traceback."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


def available() -> bool:
    """Whether a Pair may run here: Linux, two CPUs or more, a database another process
    can open."""
    if not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2:
        return False  # the CPUs this process may run on, not the machine's
    url = db.engine.url
    return not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))


class Pair:
    """This process (side 0) and a child forked from it (side 1), which runs `child(pair)` and
    then exits. They can tell each other things once each way (`tell`, `hear`: the child its
    findings, the parent what to do next), then take turns over one list of jobs. Used as a
    context manager: leaving it waits for the child's last word (or, on an error here, stops
    the child first) and reaps it."""

    def __init__(self, child: Callable[[Pair], None]):
        context = multiprocessing.get_context("fork")
        self.turns = (context.Semaphore(1), context.Semaphore(0))
        self.stop = context.Event()
        self.connection, theirs = context.Pipe()
        session = db.session()
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("turns.Pair: commit the session's changes first")
        session.commit()  # ends a read the session began; its objects stay, to be read again
        db.engine.dispose()  # no connection crosses the fork
        self.side, self.parent = 0, os.getpid()
        self.child = context.Process(
            target=_child, args=(self, theirs, child), name="import-turns", daemon=True
        )
        self.child.start()
        theirs.close()
        self.inbox = _Inbox(self.connection, self.child)

    def __enter__(self) -> Pair:
        return self

    def __exit__(self, kind, error, trace) -> None:
        if kind is not None:
            self.stop_child()
            return
        try:
            self.inbox.until_end()
            self.inbox.check()
        finally:
            self._reap()

    def stop_child(self) -> None:
        """Stop the child wherever it is (a write it is in finishes first), take what it says
        it wrote (waiting STOP_WAIT seconds at most), and reap it."""
        self.stop.set()
        try:
            self.inbox.until_end(timeout=STOP_WAIT)
        finally:
            self._reap()

    def _reap(self) -> None:
        self.child.join(timeout=STOP_WAIT)
        if self.child.is_alive():
            self.child.kill()
            self.child.join()
        self.connection.close()

    def tell(self, what) -> None:
        """Send `what` (picklable) to the other process; TurnsFailed when the child is gone."""
        if self.side == 0:
            self.inbox.check()  # raises if the child failed or is gone
            if self.inbox.ended:
                raise TurnsFailed(str(_l("the import's second process has ended")))
        try:
            self.connection.send(("said", what))
        except OSError as exc:  # the other end closed meanwhile
            if self.side == 1:
                raise _Stopped from exc
            self.inbox.raise_failure()

    def stopped_yet(self) -> None:
        """For long work of the child outside turns: stop (raise) when the parent says so or
        is gone."""
        if self.side == 1:
            self._stopped_yet()

    def hear(self):
        """Wait for what the other process tells."""
        if self.side == 0:
            return self.inbox.heard()
        while not self.connection.poll(WAIT):
            self._stopped_yet()
        kind, what = self.connection.recv()
        return what

    def take_turns(self, jobs: Sequence, prepare, write, done=None) -> None:
        """This side's jobs (j % 2 == side), each prepared while the other side writes and
        written in its turn; the child's results go to the parent's `done`."""
        mine, theirs = self.turns[self.side], self.turns[1 - self.side]
        if self.side == 0:
            self.inbox.done = done
        for j in range(self.side, len(jobs), 2):
            self._stopped_yet()
            prepared = prepare(jobs[j])
            while not mine.acquire(timeout=WAIT):
                self._stopped_yet()
            try:
                result = _write_in_turn(write, jobs[j], prepared, self.stop, theirs)
            except _Stopped:
                if self.side == 0:
                    self.inbox.raise_failure()
                raise
            except BaseException as error:
                # A job that failed after committing part of its work says what it committed
                # (`partial_result`): counted as any result before the failure goes on.
                partial = getattr(error, "partial_result", None)
                if partial is not None:
                    self._hand_over(j, partial, done)
                raise
            self._hand_over(j, result, done)

    def _hand_over(self, j: int, result, done) -> None:
        if self.side == 1:
            self.connection.send(("done", j, result))
        else:
            done(j, result)

    def _stopped_yet(self) -> None:
        """While waiting: the parent hands over the child's results and raises if it failed;
        the child stops when told to, or when the parent is gone."""
        if self.side == 0:
            self.inbox.check()
            if self.stop.is_set():  # the child failed: it says why
                self.inbox.raise_failure()
        elif self.stop.is_set() or os.getppid() != self.parent:
            raise _Stopped


class _Inbox:
    """The child's messages, as the parent reads them: ("said", what), ("done", j, result) for
    each job written, then its last word, ("end",) or ("failed", traceback)."""

    def __init__(self, connection, child):
        self.connection, self.child = connection, child
        self.done: Callable[[int, object], None] | None = None
        self.said: list = []
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
            elif message[0] == "said":
                self.said.append(message[1])
            else:
                self.ended = True
                self.failure = message[1] if message[0] == "failed" else None
            timeout = 0

    def heard(self):
        """Wait for what the child tells."""
        while not self.said:
            self.listen(timeout=WAIT)
            if not self.said:
                self.check()
                if self.ended:
                    raise TurnsFailed(str(_l("the import's second process ended without a word")))
        return self.said.pop(0)

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
            last = self.failure.strip().splitlines()[-1] if self.failure.strip() else ""
            raise TurnsFailed(
                str(_l("the import's second process failed: %(error)s", error=last)),
                self.failure,
            )
        code = self.child.exitcode
        raise TurnsFailed(
            str(_l("the import's second process stopped (exit code %(code)s)", code=code))
        )

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


def _child(pair: Pair, connection, main: Callable[[Pair], None]) -> None:
    """The child's side: `main`, then its last word; it never returns (os._exit, so nothing
    inherited from the parent is torn down twice)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    pair.side, pair.connection = 1, connection
    code = 0
    try:
        main(pair)
        connection.send(("end",))
    except _Stopped:
        with suppress(Exception):
            connection.send(("end",))
    except BaseException:
        code = 1
        pair.stop.set()
        with suppress(Exception):
            db.session.rollback()
        with suppress(Exception):
            connection.send(("failed", traceback.format_exc()))
    finally:
        with suppress(Exception):
            db.session.close()
            db.engine.dispose()
        with suppress(Exception):
            connection.close()
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
    """The other process stopped (or is gone): nothing more is written here."""
