"""What a failed request says: one classification, read by the attempt planner.

Classification comes first, action second (`herald.llm.planner` holds the actions). Each
failure gets one `Failure` kind:

| kind            | what it is                                                        |
|-----------------|-------------------------------------------------------------------|
| stream_failed   | a stream-specific failure: stream / `stream_options` rejected, not |
|                 | an event stream (HTML, JSON), malformed SSE, cut, no finish,       |
|                 | in-band error; and any unclassified error while streaming          |
| stalled         | silence: no response, no first byte, an idle stall, a timeout      |
| rate_limited    | 429 (not quota), or a 503 with `Retry-After`                       |
| quota           | 402, or a 429 saying quota, credit or billing is gone              |
| auth            | 401 / 403, or no key for the host                                  |
| not_found       | 404: unknown model or wrong base URL                               |
| context_length  | the history does not fit the model's window                        |
| content_policy  | the provider refused the content (safety, moderation)             |
| rejected        | any other 4xx that names its cause: the request itself is wrong    |
| server_error    | 5xx, 408, 409, an answer that is not one                           |
| unreachable     | the connection failed (reset, closed, DNS)                         |
| refused         | nothing listens on this machine or the local network               |
| interrupted     | the user stopped the call                                          |
| unknown         | not a provider's failure (a bug, a test double): it propagates     |
"""

from __future__ import annotations

import re
from typing import Literal

from herald.context.budget import is_context_overflow
from herald.errors import (
    AuthenticationError,
    BadResponse,
    ConfigError,
    Interrupted,
    LLMError,
    ModelNotFoundError,
    ProviderError,
    ProviderUnreachable,
    StreamFailure,
    StreamStalled,
)
from herald.llm.retry import refused_locally

Failure = Literal[
    "stream_failed",
    "stalled",
    "rate_limited",
    "quota",
    "auth",
    "not_found",
    "context_length",
    "content_policy",
    "rejected",
    "server_error",
    "unreachable",
    "refused",
    "interrupted",
    "unknown",
]

_QUOTA_WORDS = ("quota", "credit", "billing", "insufficient_funds", "payment")
_POLICY = re.compile(
    r"content[ _-]?policy|content[ _-]?filter|content[ _-]?management|safety|moderation|flagged|"
    r"responsible ?ai|violat|harmful|not allowed by our usage",
    re.IGNORECASE,
)
_ABOUT_STREAMING = re.compile(r"\bstream", re.IGNORECASE)


def classify(error: BaseException, *, streaming: bool) -> Failure:
    """The kind of failure `error` is; `streaming` when it came from a stream request."""
    if isinstance(error, Interrupted):
        return "interrupted"
    if isinstance(error, StreamStalled):
        return "stalled"
    if isinstance(error, StreamFailure):
        return "stream_failed"
    if isinstance(error, AuthenticationError):
        return "auth"
    if isinstance(error, ConfigError):
        return "auth"  # e.g. no key for this host: nothing will change during the call
    if isinstance(error, ProviderError):
        return _classify_status(error, streaming=streaming)
    if isinstance(error, ProviderUnreachable):
        if error.timed_out:
            return "stalled"
        return "refused" if refused_locally(error) else "unreachable"
    if isinstance(error, BadResponse):
        return "stream_failed" if streaming else "server_error"
    if isinstance(error, LLMError):
        return "server_error"
    return "stream_failed" if streaming else "unknown"


def _classify_status(error: ProviderError, *, streaming: bool) -> Failure:
    status = error.status
    if streaming and "stream_options" in _text(error).lower():
        return "stream_failed"  # even a 500: the stream is sent again without them
    if is_quota(error):
        return "quota"
    if status == 429:
        return "rate_limited"
    if status == 503 and error.retry_after is not None:
        return "rate_limited"
    if isinstance(error, ModelNotFoundError) or status == 404:
        return "not_found"
    if status >= 500 or status in (408, 409):
        return "server_error"
    if is_context_overflow(error):
        return "context_length"
    text = _text(error)
    if _POLICY.search(text):
        return "content_policy"
    if streaming and (_ABOUT_STREAMING.search(text) or not text.strip()):
        # A 4xx naming streaming (or naming nothing at all) may mean "not as a stream":
        # the plain request decides.
        return "stream_failed"
    return "rejected"


def is_quota(error: BaseException) -> bool:
    """402, or a 429 that says the quota, credit or billing is exhausted (waiting will not help)."""
    if not isinstance(error, ProviderError):
        return False
    if error.status == 402:
        return True
    return error.status == 429 and any(word in _text(error).lower() for word in _QUOTA_WORDS)


def _text(error: ProviderError) -> str:
    body = error.body if isinstance(error.body, str) else repr(error.body) if error.body else ""
    return f"{error.provider_message} {body}".strip()


__all__ = ["Failure", "classify", "is_quota"]
