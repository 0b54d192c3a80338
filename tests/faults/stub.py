"""A stub SMS provider for the fault tests: an HTTP handler that decides each answer from
(message ids, attempt number) and records every $$MessageID it receives, when, and how it
answered. Thread-safe: the server answers requests in parallel threads."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug import Response

from providers import message_ids

BATCH_KEY = "msgs"
BATCH_JSON = '{"msgs": [{"to": "$$To", "mid": "$$MessageID", "text": "$$Body"}]}'


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: str = '{"accepted": true}'
    retry_after: int | None = None
    sleep: float = 0.0  # seconds to wait before answering
    late: bool = False  # the client has given up by the time this answer leaves
    hold: threading.Event | None = field(default=None, compare=False)  # answer once set

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300 and not self.late


@dataclass(frozen=True)
class Arrival:
    at: float  # time.monotonic() when the request arrived
    answer: Answer


Policy = Callable[[list[int], int, int], Answer]


def always_ok(ids: list[int], attempt: int, number: int) -> Answer:
    return Answer()


def chance(seed: str, ids: list[int], attempt: int) -> float:
    """A deterministic draw in [0, 1) for this request (keyed by its first message id)."""
    return random.Random(f"{seed}:{min(ids)}:{attempt}").random()


class Stub:
    """`policy(ids, attempt, number)` picks the answer; `attempt` is 1 + the most requests
    any of the request's messages has had before (batches are retried together), `number`
    counts the requests the stub has received before this one."""

    def __init__(self, policy: Policy = always_ok, *, batched: bool = False):
        self.policy = policy
        self.batched = batched
        self.lock = threading.Lock()
        self.arrivals: dict[int, list[Arrival]] = defaultdict(list)
        self.accepted: Counter[int] = Counter()  # ids answered 2xx in time
        self.requests = 0

    def __call__(self, request):
        arrived = time.monotonic()
        body = json.loads(request.get_data())
        refs = [item["mid"] for item in body[BATCH_KEY]] if self.batched else [body["ref"]]
        ids = [message_ids.verify(ref) for ref in refs]
        assert None not in ids, "a $$MessageID did not verify"
        with self.lock:
            attempt = 1 + max(len(self.arrivals[i]) for i in ids)
            answer = self.policy(ids, attempt, self.requests)
            self.requests += 1
            for message_id in ids:
                self.arrivals[message_id].append(Arrival(arrived, answer))
            if answer.accepted:
                self.accepted.update(ids)
        if answer.hold is not None:
            answer.hold.wait(30)
        if answer.sleep:
            time.sleep(answer.sleep)
        headers = {"Retry-After": str(answer.retry_after)} if answer.retry_after else {}
        return Response(
            answer.body, status=answer.status, headers=headers, content_type="application/json"
        )

    def received(self) -> Counter[int]:
        """How many requests each message id was in."""
        with self.lock:
            return Counter({i: len(arrivals) for i, arrivals in self.arrivals.items()})
