"""The attempt planner: one model call's every request, decided in one place, under one deadline.

Sans-IO. `plan_call` is a generator (see `herald.llm.steps`) that yields what to do next —
`Send` one request to a provider with one of its keys (a stream or a plain request), or
`Wait` — and is sent each request's answer or has its error thrown in. The sync client, the
async client and everything above them (both agents, `herald batch`, the gateway) run the
same generator; they differ only in how they send and wait.

What happens after a failed request (classification first: `herald.llm.classify`, then this
table, which is the README's failure-semantics table):

| failure                       | next                                                                |
|-------------------------------|---------------------------------------------------------------------|
| stream_failed                 | one plain request to the same provider and key (`stream_options`    |
|                               | rejected: the stream again without them); after text was shown,    |
|                               | where the provider continues (`herald.llm.continuation`): a stream  |
|                               | continuing the shown text instead (refused: a restart, as before)  |
| stalled (silence)             | another provider configured: fail over now (the provider is marked  |
|                               | down); none: one more request (plain), then give up                |
| rate_limited                  | no request to that key before its `Retry-After`: another ready key, |
|                               | else a ready provider, else wait (if the wait fits the time left    |
|                               | and a retry is left), else fail over / give up                     |
| quota, auth                   | the next key, then the next provider                               |
| not_found                     | the next provider (the provider rests)                             |
| context_length, rejected      | only a provider whose model differs; none: give up (the agent fits  |
|                               | the history and asks again)                                        |
| content_policy                | give up with the provider's reason (fail over only when allowed)   |
| server_error, unreachable     | retry with jittered backoff while retries and time last, then the   |
|                               | provider is marked down and the next one takes the call            |
| refused (nothing listens)     | the next provider at once; none: give up                           |
| interrupted, unknown          | propagate at once, never a failover                                |

A continuation (`continue`) delivers in place: consumers are told `continued`, not reset, and the
answer is the shown text joined with the new. A provider that refuses it (a 400 about prefill or
the flags) is remembered and restarted; that 400 never becomes the call's error. An answer the
length limit cut is continued the same way, as far as `CallSetup.length` allows (usage summed);
where the provider cannot continue, or refuses, the answer is returned as it stopped.

Every request becomes an `AttemptRecord` (`herald.llm.records`), handed to `on_attempt` as
it ends. Text a failed attempt delivered is void: the next attempt's sink resets the
consumers just before it delivers anything (never before: the old text stays on screen
until its replacement arrives).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Literal, Sequence

from herald.errors import ConfigError, Interrupted, ProviderError, ProviderUnreachable
from herald.llm.classify import Failure, classify
from herald.llm.continuation import LengthAllowance, refuses_continuation
from herald.llm.plan_continuation import CallContinuation
from herald.llm.failover import Attempt, ProviderChain, dedupe, failure_summary, key_note, with_message
from herald.llm.fallback import StreamSupportMemory, rejects_stream_options
from herald.llm.records import AttemptRecord, NextStep
from herald.llm.redact import redact
from herald.llm.sink import DeltaSink
from herald.llm.timeouts import StreamTimeouts
from herald.llm.types import LLMResponse, Usage, add_usage
from herald.llm.wire import Wire

log = logging.getLogger("herald.llm")

Mode = Literal["stream", "plain"]


@dataclass(frozen=True)
class CallPolicy:
    """How hard one call tries.

    Examples:
        CallPolicy()                           # 3 retries per provider, no overall budget
        CallPolicy(max_retries=1, budget=60)   # the whole call, every provider, within 60 s

    Attributes:
        max_retries: retries of a failed request to one provider (5xx, reset, 429), after the first.
        base_delay: the first backoff, doubled after each retry, with jitter.
        max_delay: no single wait is longer, whatever `Retry-After` says.
        budget: seconds for the whole call (every attempt, every provider); None: no bound.
        request_timeout: wall-clock bound on one plain request.
        failover_on_content_policy: let a content-policy refusal go to another provider
            (off: a safety decision is not routed around).
    """

    max_retries: int = 3
    base_delay: float = 1.0
    max_delay: float = 60.0
    budget: float | None = None
    request_timeout: float | None = 600.0
    failover_on_content_policy: bool = False

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ConfigError(f"max_retries must be ≥ 0, got {self.max_retries}")
        if self.budget is not None and not self.budget > 0:
            raise ConfigError(f"the call budget must be a positive number of seconds, got {self.budget!r}")

    def backoff(self, retry: int, error: BaseException) -> float:
        """Seconds before retry number `retry` (1-based): `Retry-After` when given, else jittered doubling."""
        asked = error.retry_after if isinstance(error, ProviderError) else None
        if asked is not None:
            return min(max(asked, 0.0), self.max_delay)
        return min(self.base_delay * 2 ** (retry - 1) * random.uniform(0.8, 1.2), self.max_delay)


@dataclass(frozen=True)
class Send:
    """Send one request and send back its `LLMResponse` (or throw its error in)."""

    attempt: Attempt
    mode: Mode
    api_kwargs: dict[str, Any]
    """The provider's request in neutral form (`Wire.build_kwargs`); the sender applies
    `wire.stream_kwargs(…, stream_options=stream_options)` or `wire.plain_kwargs(…)`."""
    stream_options: bool
    timeouts: StreamTimeouts
    """For a stream: its stall limits (total capped by the call's time left); for a plain request:
    `total` is the request's wall-clock bound."""
    sink: DeltaSink | None
    """Where a stream's deltas go (None for a plain request: the planner replays its answer)."""
    continuing: bool = False
    """A stream continuing the answer a broken stream had shown (`api_kwargs` carry the prefix)."""


@dataclass(frozen=True)
class Wait:
    """Wait this long (interruptibly), then send back None."""

    seconds: float


@dataclass(frozen=True)
class ListModels:
    """Read the provider's `GET /models` listing (once per endpoint, after a cut: which server is it?);
    send back its decoded body, or None when there is none."""

    attempt: Attempt


Step = Send | Wait | ListModels


@dataclass
class CallSetup:
    """Everything one call's plan reads.

    Attributes:
        chain: the providers and what they taught (shared by the client's calls).
        wires: each provider's wire, by position in the chain.
        request_for: the provider's request (neutral kwargs), built from the history on first use.
        memory: what endpoints taught about streaming (shared).
        timeouts: stream stall limits.
        policy: retries, backoff, the call's budget.
        make_sink: a fresh sink for a streamed attempt; None when the call is plain.
        on_attempt: receives each `AttemptRecord` as its request ends.
        only: visit only these providers (e.g. the primary alone); None: the whole chain.
        secrets: values scrubbed from every message.
        continues: whether a provider (by position) continues a cut answer (its `continuation`
            setting and server); None: none does.
        length: how far an answer the length limit cut is continued (none by default).
        could_continue: whether a provider would continue once its server is known to (its
            setting and wire): then a cut may be worth a `ListModels` to learn which server it is.
    """

    chain: ProviderChain
    wires: Sequence[Wire]
    request_for: Callable[[int], dict[str, Any]]
    memory: StreamSupportMemory
    timeouts: StreamTimeouts = field(default_factory=StreamTimeouts)
    policy: CallPolicy = field(default_factory=CallPolicy)
    make_sink: Callable[[], DeltaSink] | None = None
    on_attempt: Callable[[AttemptRecord], object] | None = None
    only: Sequence[int] | None = None
    secrets: Callable[[], Sequence[str | None]] = lambda: ()
    clock: Callable[[], float] = time.monotonic
    continues: Callable[[int], bool] | None = None
    length: LengthAllowance = field(default_factory=LengthAllowance)
    could_continue: Callable[[int], bool] | None = None


def plan_call(setup: CallSetup) -> Generator[Step, Any, LLMResponse]:
    """One model call's requests (see the module docstring). Returns the answer.

    Raises:
        Interrupted: at once, never failed over.
        The failure's error when nothing more is worth trying (naming every provider tried
        when more than one was), or an unclassified error unchanged.
    """
    return (yield from _Plan(setup).run())


class _Plan:
    def __init__(self, setup: CallSetup) -> None:
        self.s = setup
        self.chain = setup.chain
        self.started = setup.clock()
        self.deadline = self.started + setup.policy.budget if setup.policy.budget is not None else None
        order, self.claimed = setup.chain.visit_order()
        self.order = [p for p in order if setup.only is None or p in setup.only]
        self.visited: list[int] = []
        self.rejected_models: set[str] = set()
        self.records: list[AttemptRecord] = []
        self.failures: list[tuple[int, int, str]] = []
        self.void = False
        """Text a failed attempt delivered is on the consumers' screens."""
        self.extra_used = False
        self.number = 0
        self.last_error: BaseException | None = None
        # The current visit.
        self.provider = -1
        self.key = 0
        self.keys: list[int] = []
        self.plain = False
        self.options = True
        self.retries = 0
        self.stream_error: BaseException | None = None
        self.stream_refused = False
        self.plain_sent = False
        """A plain request already replaced a stream of this provider in this call."""
        self.cont = CallContinuation(
            wires=setup.wires, request_for=setup.request_for, memory=setup.memory, base_url=lambda p: self.chain.providers[p].base_url,
            continues=setup.continues, could_continue=setup.could_continue, length=setup.length,
        )
        """What consumers have on screen, the request continuing it, and whether to."""
        self.spent: Usage | None = None

    # ── the walk ────────────────────────────────────────────────────────

    def run(self) -> Generator[Step, Any, LLMResponse]:
        try:
            if not self._next_provider():
                raise self._nothing_to_try()
            while True:
                self._check_time()
                send = self._send()
                started, wall = self.s.clock(), time.time()
                try:
                    outcome = yield send
                except Exception as error:
                    if send.sink is not None:
                        send.sink.abandon()
                        self.void = send.sink.owes_reset or send.sink.delivered or send.continuing
                        self.cont.shown(send.sink.cut, continued=send.continuing)
                        if self.cont.worth_listing(send.attempt.provider, error=error):
                            self.s.memory.learn_listing(self.cont.base_url(send.attempt.provider), (yield ListModels(send.attempt)))
                    try:
                        wait = self._failed(send, error, started, wall)
                    except Exception:
                        if self.cont.answered is None:
                            raise
                        if isinstance(error, Interrupted):  # a plain continuation keeps no partial: the answer it continued
                            error.partial = error.partial or self._as_cut()
                            raise
                        return self._as_cut()
                    if self.cont.answered is not None and not self.cont.active:
                        return self._as_cut()
                    if wait:
                        yield Wait(wait)
                    continue
                response = self._answered(send, outcome, started, wall)
                p, replayed = send.attempt.provider, send.mode == "plain" and send.sink is not None
                if not replayed and self.cont.worth_listing(p, response=response):
                    self.s.memory.learn_listing(self.cont.base_url(p), (yield ListModels(send.attempt)))
                if not self.cont.after_answer(p, response, replayed=replayed):
                    return response
                log.info("the answer from %s reached the length limit; continuing it", self.chain.providers[p].host)
        finally:
            for provider in self.claimed:
                self.chain.release(provider)

    def _send(self) -> Send:
        self.number += 1
        p = self.provider
        wire = self.s.wires[p]
        support = self.s.memory.get(self.chain.providers[p].base_url, str(self.s.request_for(p).get("model", "")))
        streaming = self.s.make_sink is not None and support.stream and not self.plain
        mode: Mode = "stream" if streaming else "plain"
        left = self._left()
        if mode == "stream":
            limits = self.s.timeouts
            if left is not None:
                limits = limits.with_(total=min(limits.total or left, left))
        else:
            total = self.s.policy.request_timeout
            if left is not None:
                total = min(total or left, left)
            limits = StreamTimeouts(first_byte=None, idle=None, total=total)
        self.plain_sent = self.plain_sent or (mode == "plain" and self.plain)
        sink = self.s.make_sink() if self.s.make_sink is not None else None
        continuing = self.cont.active and (sink is None or mode == "stream") and self.cont.cut is not None
        if sink is not None and continuing and self.cont.cut is not None:
            sink.continue_from(self.cont.cut.text, sent=self.cont.sent)
        elif sink is not None and self.void:
            sink.reset_on_first_delta()
        return Send(
            Attempt(p, self.key, self.number),
            mode,
            self.cont.kwargs if continuing else self.s.request_for(p),
            stream_options=mode == "stream" and wire.supports_stream_options and support.stream_options and self.options,
            timeouts=limits,
            sink=sink,
            continuing=continuing,
        )

    def _answered(self, send: Send, response: LLMResponse, started: float, wall: float) -> LLMResponse:
        p = send.attempt.provider
        info = self.chain.providers[p]
        if send.mode == "plain" and send.sink is not None:
            send.sink.replay(text=response.message.content, reasoning=response.message.reasoning_content)
        if send.continuing:
            if send.sink is not None:
                send.sink.finish_continuation()
            response.message.content = self.cont.answer(response.message.content or "")
        response.extras["continuations"] = self.cont.count if send.continuing else 0
        response.extras["length_continuations"] = self.s.length.continuations - self.cont.length_left
        if send.mode == "plain" and self.stream_error is not None:
            reason = self.stream_error
            response.extras["fallback_reason"] = redact(f"{type(reason).__name__}: {reason}", self.s.secrets())
            if self.stream_refused:
                self.s.memory.get(info.base_url, str(send.api_kwargs.get("model", ""))).stream = False
                log.info("%s does not stream; using plain requests from now on", info.host)
        self.chain.succeeded(p, send.attempt.key)
        self.claimed.discard(p)
        usage = response.usage
        self._record(send, "ok", started, wall, response=response, usage=usage)
        self.spent = response.usage = add_usage(self.spent, usage) if send.continuing else usage
        response.extras["answered_by"] = self._answered_by(p, response)
        response.extras["attempts"] = list(self.records)
        return response

    # ── after a failure ────────────────────────────────────────────────

    def _failed(self, send: Send, error: Exception, started: float, wall: float) -> float:
        """Decide the next step after `error`; returns seconds to wait first (0: none).
        Raises when nothing more is worth trying."""
        streaming = send.mode == "stream"
        if send.continuing:
            self.cont.active = False
            if refuses_continuation(error):
                return self._continuation_refused(send, error, started, wall)
        kind = classify(error, streaming=streaming)
        if kind in ("interrupted", "unknown"):
            self._record(send, kind, started, wall, error=error, next_step="give_up")
            raise error
        p, info = send.attempt.provider, self.chain.providers[send.attempt.provider]
        summary = failure_summary(error, info.host)
        self.last_error = error
        self.failures.append((p, send.attempt.key, summary))
        log.info("%s%s failed (%s)", info.label, key_note(info, send.attempt.key), summary)
        next_step, wait = self._decide(kind, send, error, summary)
        if p in self.claimed:  # the probe was sent: its outcome decided (or it said nothing of health)
            self.claimed.discard(p)
            self.chain.release(p)
        self._record(send, kind, started, wall, error=error, next_step=next_step, delay=wait if next_step == "retry" else None)
        if next_step == "give_up":
            raise self._give_up(error)
        return wait

    def _decide(self, kind: Failure, send: Send, error: Exception, summary: str) -> tuple[NextStep, float]:
        p, key, chain = send.attempt.provider, send.attempt.key, self.chain
        info = chain.providers[p]
        if kind == "stream_failed":
            if self.options and send.stream_options and rejects_stream_options(error) and not (send.sink and send.sink.delivered):
                self.options = False
                self.s.memory.get(info.base_url, str(send.api_kwargs.get("model", ""))).stream_options = False
                log.info("%s rejected stream_options; streaming without them from now on", info.host)
                return "retry", 0.0
            if self.cont.after_cut(send.attempt.provider):
                self.stream_error = self.stream_error or error
                log.info("streaming from %s broke (%s); continuing the answer from the text shown", info.host, type(error).__name__)
                return "continue", 0.0
            self.plain, self.stream_error = True, error
            # A 4xx before any chunk, then a plain answer: this endpoint does not stream.
            self.stream_refused = isinstance(error, ProviderError) and 400 <= error.status < 500 and not (send.sink and send.sink.delivered)
            log.info("streaming from %s failed (%s: %s); falling back to a plain request", info.host, type(error).__name__, redact(str(error), self.s.secrets()))
            return "plain", 0.0
        if kind == "stalled":
            # Silence: the provider is taken as down, not as "cannot stream".
            chain.mark_down(p, summary, error)
            if self._fail_over():
                return "fallback", 0.0
            if self.extra_used or self.plain_sent:
                return "give_up", 0.0  # its one more attempt was had (or was this plain request)
            self.extra_used = True
            if send.mode == "stream" and self.cont.after_cut(send.attempt.provider):
                self.stream_error = self.stream_error or error
                return "continue", 0.0
            if send.mode == "stream":
                self.plain, self.stream_error = True, error
                log.info("%s went silent (%s); no other provider: falling back to one plain request", info.host, summary)
                return "plain", 0.0
            return "retry", 0.0
        if kind == "rate_limited":
            return self._rate_limited(send, error, summary)
        if kind in ("quota", "auth"):
            if kind == "auth":
                chain.refuse_key(p, key, summary, error)
            else:
                chain.rest_key(p, key, chain.policy.quota_cooldown, summary, error)
            if self._other_key(p, key):
                return "retry", 0.0
            return ("fallback", 0.0) if self._fail_over() else ("give_up", 0.0)
        if kind == "not_found":
            chain.mark_down(p, summary, error)
            return ("fallback", 0.0) if self._fail_over() else ("give_up", 0.0)
        if kind in ("context_length", "rejected") or (kind == "content_policy" and self.s.policy.failover_on_content_policy):
            chain.note_failure(p, summary, error)
            self.rejected_models.add(info.model)
            return ("fallback", 0.0) if self._fail_over() else ("give_up", 0.0)
        if kind == "content_policy":
            chain.note_failure(p, summary, error)
            return "give_up", 0.0
        if kind in ("server_error", "unreachable"):
            if self.retries < self.s.policy.max_retries:
                delay = self.s.policy.backoff(self.retries + 1, error)
                if self._fits(delay):
                    self.retries += 1
                    return "retry", delay
        chain.mark_down(p, summary, error)  # server_error, unreachable out of retries; refused
        return ("fallback", 0.0) if self._fail_over() else ("give_up", 0.0)

    # ── continuation ───────────────────────────────────────────────────

    def _as_cut(self) -> LLMResponse:
        """The answer the length limit cut, as the call's answer: its continuation failed."""
        answered = self.cont.answered
        assert answered is not None
        answered.extras["attempts"] = list(self.records)
        return answered

    def _continuation_refused(self, send: Send, error: Exception, started: float, wall: float) -> float:
        """The provider will not continue: remember it, restart as before (the original fault stays the call's error)."""
        info = self.chain.providers[send.attempt.provider]
        self.cont.refused(send.attempt.provider)
        log.info("%s refused to continue the answer (%s); restarting it from now on", info.host, type(error).__name__)
        self._record(send, "rejected", started, wall, error=error, next_step="plain")
        self.plain = True
        return 0.0

    def _rate_limited(self, send: Send, error: Exception, summary: str) -> tuple[NextStep, float]:
        p, key, chain = send.attempt.provider, send.attempt.key, self.chain
        asked = error.retry_after if isinstance(error, ProviderError) else None
        chain.rest_key(p, key, asked if asked is not None else chain.policy.key_cooldown, summary, error)
        if self._other_key(p, key):
            return "retry", 0.0
        if self._fail_over(ready_only=True):
            return "fallback", 0.0
        if self.retries < self.s.policy.max_retries:
            delay = self.s.policy.backoff(self.retries + 1, error)
            if self._fits(delay):
                self.retries += 1
                return "retry", delay
        return ("fallback", 0.0) if self._fail_over() else ("give_up", 0.0)

    def _other_key(self, provider: int, failed: int) -> bool:
        """Move to another key of this provider usable now; False when there is none."""
        usable = [k for k in self.chain.usable_keys(provider) if k != failed]
        if not usable:
            return False
        self.key = usable[0]
        return True

    def _fail_over(self, *, ready_only: bool = False) -> bool:
        """Move to the next provider worth trying; False (nothing moved) when there is none."""
        candidates = [p for p in self.order if self.chain.providers[p].model not in self.rejected_models]
        if ready_only:
            candidates = [p for p in candidates if self.chain.is_ready(p)]
        if not candidates:
            return False
        return self._next_provider(candidates[0])

    def _next_provider(self, target: int | None = None) -> bool:
        while self.order:
            p = self.order.pop(0) if target is None else self.order.pop(self.order.index(target))
            target = None
            if self.chain.providers[p].model in self.rejected_models:
                log.info("not failing over to %s: the same model already rejected this request", self.chain.providers[p].label)
                continue
            keys = self.chain.keys(p)
            if not keys:
                continue
            self.visited.append(p)
            self.provider, self.key = p, keys[0]
            self.plain, self.options, self.retries, self.stream_error, self.stream_refused = False, True, 0, None, False
            self.plain_sent = False
            return True
        return False

    # ── time ────────────────────────────────────────────────────────────

    def _left(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.s.clock()

    def _fits(self, wait: float) -> bool:
        left = self._left()
        return left is None or wait < left

    def _check_time(self) -> None:
        left = self._left()
        if left is not None and left <= 0:
            budget = self.s.policy.budget
            timeout = ProviderUnreachable.timeout(f"no answer within the call's budget of {budget:g}s")
            raise self._give_up(self.last_error) if self.last_error is not None else timeout

    # ── outcomes ────────────────────────────────────────────────────────

    def _record(
        self,
        send: Send,
        outcome: str,
        started: float,
        wall: float,
        *,
        error: BaseException | None = None,
        next_step: NextStep | None = None,
        delay: float | None = None,
        response: LLMResponse | None = None,
        usage: Any = None,
    ) -> None:
        info = self.chain.providers[send.attempt.provider]
        message = None
        if error is not None:
            message = " ".join(redact(str(error) or type(error).__name__, self.s.secrets()).split())
        record = AttemptRecord(
            number=send.attempt.number,
            provider=info.label,
            model=info.model,
            host=info.host,
            key=send.attempt.key,
            mode="continue" if send.continuing else send.mode,
            outcome=outcome,
            started_at=wall,
            duration_s=round(self.s.clock() - started, 6),
            error=message,
            error_type=type(error).__name__ if error is not None else None,
            status=error.status if isinstance(error, ProviderError) else None,
            next=next_step,
            delay_s=round(delay, 3) if delay is not None else None,
            first_chunk_s=response.extras.get("first_chunk_s") if response is not None else None,
            response_model=(response.model or None) if response is not None else None,
            finish_reason=response.finish_reason if response is not None else None,
            usage=usage,
        )
        self.records.append(record)
        if self.s.on_attempt is not None:
            try:
                self.s.on_attempt(record)
            except Exception:  # a consumer's bug must not change the call
                log.debug("on_attempt raised; ignored", exc_info=True)

    def _answered_by(self, provider: int, response: LLMResponse) -> dict[str, Any]:
        """Who answered, JSON-ready: `model`, `base_url`, `reported_model` (what the provider said
        answered), and `skipped`: the providers ahead of it that did not answer, with a `reason`."""
        providers = self.chain.providers
        skipped = [
            {"model": providers[i].model, "base_url": providers[i].base_url, "reason": self._reason(i)}
            for i in range(provider)
            if self.s.only is None or i in self.s.only
        ]
        info = providers[provider]
        return {"model": info.model, "base_url": info.base_url, "reported_model": response.model or None, "skipped": skipped}

    def _reason(self, provider: int) -> str:
        mine = [summary for p, _, summary in self.failures if p == provider]
        if mine:
            return mine[-1]
        if self.chain.all_refused(provider):
            return f"every key refused ({self.chain.last_failure(provider)})"
        last = self.chain.last_failure(provider)
        return f"resting after: {last}" if last else "not tried"

    def _give_up(self, error: BaseException) -> BaseException:
        """The error to raise: unchanged when one provider-and-key was tried, else naming each provider."""
        if len({(p, k) for p, k, _ in self.failures}) <= 1:
            return error
        return with_message(error, f"{self._account()}; last error: {error}")

    def _nothing_to_try(self) -> BaseException:
        for p in reversed(range(len(self.chain.providers))):
            last = self.chain.last_error(p)
            if last is not None and (self.s.only is None or p in self.s.only):
                return with_message(last, f"{self._account()}; last error: {last}")
        return ConfigError("no provider can be tried")

    def _account(self) -> str:
        providers = self.chain.providers
        indices = [i for i in range(len(providers)) if self.s.only is None or i in self.s.only]
        parts = []
        for index in indices:
            info = providers[index]
            tried = [(k, s) for p, k, s in self.failures if p == index]
            if tried:
                detail = ", ".join(f"{key_note(info, k).strip()} {s}".strip() for k, s in dedupe(tried))
            else:
                detail = "not tried: " + self._reason(index)
            parts.append(f"{info.label}: {detail}")
        if len(indices) == 1:
            return f"every key of {parts[0]}"
        return f"all {len(indices)} providers failed ({'; '.join(parts)})"


__all__ = ["CallPolicy", "CallSetup", "ListModels", "Send", "Step", "Wait", "plan_call"]
