"""Checking an import's phone numbers on another core (SPEC §4).

phonenumbers takes ~20 µs a number, two thirds of a large import. A big file's numbers are
therefore checked by a helper process, one chunk ahead: while it checks chunk N, the import
writes chunk N-1 to the database and reads chunk N+1 from the file. The helper is a plain
subprocess (a Celery prefork child may not start multiprocessing children) speaking JSON
lines: in, a list of texts; out, a list of [E.164 number, reason], one of the two empty.
Small files are checked in-process: starting the helper costs more than it saves.
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import sys
import threading
from collections import deque

from .phones import InvalidPhone, normalize

Checked = list[tuple[str, str]]  # (E.164 number, "") or ("", why it was rejected)


def check(texts: list[str], country: str) -> Checked:
    checked = []
    for text in texts:
        try:
            checked.append((normalize(text, country), ""))
        except InvalidPhone as invalid:
            checked.append(("", str(invalid)))
    return checked


class InlineChecker:
    """Checks each submitted chunk here and now."""

    def __init__(self, country: str):
        self.country = country
        self.ready: deque[Checked] = deque()

    def submit(self, texts: list[str]) -> None:
        self.ready.append(check(texts, self.country))

    def collect(self) -> Checked:
        """The results of the oldest submitted chunk not collected yet."""
        return self.ready.popleft()

    def close(self) -> None:
        pass


class ProcessChecker(InlineChecker):
    """Checks submitted chunks in a helper process, in the order submitted."""

    def __init__(self, country: str):
        super().__init__(country)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "audiences.phone_checker", country],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def submit(self, texts: list[str]) -> None:
        self.process.stdin.write(json.dumps(texts) + "\n")
        self.process.stdin.flush()

    def collect(self) -> Checked:
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the phone number checker stopped ({self.process.poll()})")
        return [tuple(pair) for pair in json.loads(line)]

    def close(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):  # a helper that died leaves a broken pipe
                stream.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def checker_for(country: str, file_size: int, parallel_from: int) -> InlineChecker:
    return ProcessChecker(country) if file_size >= parallel_from else InlineChecker(country)


def serve(country: str) -> None:
    """The helper's loop: a JSON list of texts in, their results out, until stdin closes.
    Answers are written by a thread, so that a reader busy with its previous answer never
    stops this loop from taking the next request (a full pipe each way would deadlock)."""
    answers: queue.Queue[str | None] = queue.Queue()

    def write() -> None:
        while (answer := answers.get()) is not None:
            sys.stdout.write(answer)
            sys.stdout.flush()

    writer = threading.Thread(target=write)
    writer.start()
    for line in sys.stdin:
        answers.put(json.dumps(check(json.loads(line), country)) + "\n")
    answers.put(None)
    writer.join()


if __name__ == "__main__":
    serve(sys.argv[1])
