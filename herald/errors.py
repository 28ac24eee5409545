"""Every exception Herald raises.

    HeraldError
    ├── UserError                  the caller's mistake: fix the input, don't retry
    │   ├── ConfigError            bad configuration value, file or flag
    │   ├── BatchFileError         a batch input or output file that cannot be used as it is
    │   └── ContextOverflow        the conversation does not fit in the model's context window
    └── LLMError                   the model call failed at run time
        ├── ProviderError          the provider answered with an HTTP error
        │   ├── AuthenticationError    401 / 403: wrong or missing key
        │   ├── ModelNotFoundError     404: unknown model or wrong base URL
        │   └── RateLimitError         429
        ├── ProviderUnreachable    no connection could be made, or it timed out
        ├── BadResponse            the provider answered something that is not an answer
        ├── StreamFailure          a stream did not deliver a complete answer (internal: triggers fallback)
        │   ├── StreamStalled          first-byte, idle or total time limit exceeded
        │   └── IncompleteStream       ended without a finish reason, empty, not SSE, or in-band error
        └── Interrupted            the user stopped the call (also an InterruptedError)

Messages never contain an API key: `herald.llm.redact` scrubs them at the seam where
SDK errors are translated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Mapping

if TYPE_CHECKING:
    from herald.llm.types import LLMResponse


class HeraldError(Exception):
    """Base class of every Herald error."""


class UserError(HeraldError):
    """The caller asked for something that cannot work; retrying will not help."""


class ConfigError(UserError):
    """A configuration value, file or flag is invalid."""


class BatchFileError(UserError):
    """A `herald batch` input (or an output to resume) has problems; nothing was run.

    Attributes:
        problems: one line per problem, each naming the file's line number.
    """

    def __init__(self, path: str, problems: list[str], total: int | None = None) -> None:
        self.path = path
        self.problems = list(problems)
        self.total = len(self.problems) if total is None else total
        more = f" (and {self.total - len(self.problems)} more)" if self.total > len(self.problems) else ""
        super().__init__(f"{path}: {self.problems[0]}{more}" if self.problems else f"{path}: unusable")


class ContextOverflow(UserError):
    """What must be sent does not fit in the model's context window, even with older history left out.

    Raised before sending when Herald knows the window (`max_context_tokens`, the local
    server's size, or what a provider said earlier), and after a provider's context-length
    error that leaving out older history cannot fix.

    Attributes:
        tokens: about how many tokens it needs (Herald's estimate, or the provider's count).
        limit: the context window in tokens, when known.
    """

    def __init__(self, message: str, *, tokens: int | None = None, limit: int | None = None) -> None:
        super().__init__(message)
        self.tokens = tokens
        self.limit = limit


class LLMError(HeraldError):
    """A call to the model failed at run time."""


class ProviderError(LLMError):
    """The provider answered with an HTTP error status.

    Attributes:
        status: the HTTP status code.
        provider_message: the provider's own explanation, key redacted.
        headers: response headers, lower-cased names.
        body: the decoded error body when there was one, key redacted.
        retry_after: seconds the provider asked us to wait before retrying, if it said so.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        provider_message: str = "",
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.provider_message = provider_message
        self.headers = {k.lower(): v for k, v in (headers or {}).items()}
        self.body = body
        self.retry_after = retry_after
        """Seconds the provider asked us to wait (`Retry-After`, parsed where SDK errors are translated)."""


class AuthenticationError(ProviderError):
    """The provider refused the API key (401 or 403)."""


class ModelNotFoundError(ProviderError):
    """The provider does not know the model, or the base URL is wrong (404)."""


class RateLimitError(ProviderError):
    """The provider is rate limiting us (429)."""


class ProviderUnreachable(LLMError):
    """No answer could be had from the provider: connection refused, DNS failure, timeout."""

    timed_out = False
    """True for a timeout; False when the connection failed (refused, reset, closed by the server)."""

    @classmethod
    def timeout(cls, message: str) -> ProviderUnreachable:
        """The error for a request that timed out."""
        error = cls(message)
        error.timed_out = True
        return error


class BadResponse(LLMError):
    """The provider answered 2xx with something that is not a model answer (HTML, empty, garbled)."""


class StreamFailure(LLMError):
    """A stream did not deliver a complete answer. Herald falls back to a plain request."""


class StreamStalled(StreamFailure):
    """A stream went quiet for longer than one of its time limits.

    Attributes:
        limit: which limit was exceeded: "first_byte", "idle" or "total".
        seconds: the limit that was exceeded.
    """

    def __init__(self, limit: str, seconds: float) -> None:
        super().__init__(f"stream stalled: no {limit.replace('_', ' ')} progress within {seconds:g}s")
        self.limit = limit
        self.seconds = seconds


IncompleteReason = Literal["no_data", "cut", "no_finish", "not_sse", "error_event", "error_finish", "failed", "incomplete"]

_INCOMPLETE_WORDING: dict[str, str] = {
    "no_data": "no event arrived (not an event stream, or streaming unsupported)",
    "cut": "the connection was cut mid-stream",
    "no_finish": "it ended without a finish reason or terminal event (connection cut?)",
    "not_sse": "the provider answered something other than an event stream",
    "error_event": "the provider sent an error mid-stream",
    "error_finish": "the provider ended it with finish_reason 'error'",
    "failed": "the provider reported response.failed",
    "incomplete": "the provider ended it with response.incomplete",
}


class IncompleteStream(StreamFailure):
    """A stream ended without a complete answer: nothing arrived, no finish reason or terminal
    event, not an event stream at all, or the provider said in-band that it failed.

    Every wire raises this one class with one wording: "the stream ended incomplete: <why>".

    Attributes:
        reason: "no_data", "cut" (the connection failed after the stream began), "no_finish", "not_sse", "error_event", "error_finish", "failed"
            or "incomplete" (the Responses `response.incomplete` event).
        detail: what the provider said, if anything (keys redacted by the caller).
    """

    def __init__(self, reason: IncompleteReason, detail: str = "") -> None:
        text = f"the stream ended incomplete: {_INCOMPLETE_WORDING[reason]}"
        super().__init__(f"{text}: {detail}" if detail else text)
        self.reason = reason
        self.detail = detail


class Interrupted(LLMError, InterruptedError):
    """The user interrupted the call.

    Attributes:
        partial: what had been received before the interrupt (state "interrupted"), if anything.
    """

    def __init__(self, message: str = "interrupted by user", partial: LLMResponse | None = None) -> None:
        super().__init__(message)
        self.partial = partial
