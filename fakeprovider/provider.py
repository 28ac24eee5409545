"""FakeProvider: the scripted fake LLM provider's public face (queue, options, lifecycle)."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from types import TracebackType

from .script import RecordedRequest, Reply
from .server import FakeHTTPServer


class FakeProvider:
    """A real HTTP server on 127.0.0.1 answering OpenAI chat/responses and Anthropic messages.

    Replies are consumed FIFO, one per request (each served `Reply.repeat` times); when the
    queue is empty `default` answers, or a 500 "no scripted reply" if it is None.
    """

    def __init__(self) -> None:
        self.default: Reply | None = None
        self.requests: list[RecordedRequest] = []
        self.api_key: str | None = None
        self.known_models: set[str] | None = None
        self.reject_null_content: bool = False
        # A context window in tokens (request text bytes / 4): larger requests get the wire's
        # real context-length error, before any scripted reply is taken.
        self.context_window: int | None = None
        # The `Server` header of every response (None: http.server's own), e.g. "llama.cpp" to
        # play the llama.cpp server, which names itself so.
        self.server_header: str | None = None
        # `owned_by` of every model in the GET /models listing (vLLM writes "vllm", SGLang "sglang").
        self.owned_by: str = "fakeprovider"
        self._queue: deque[list[Reply | int]] = deque()  # [reply, remaining serves]
        self._keyed: dict[str, deque[list[Reply | int]]] = {}  # marker -> its own queue
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._stop = threading.Event()  # wakes stalls and paced streams on close()
        self._server: FakeHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> FakeProvider:
        if self._server is None:
            self._stop.clear()
            self._server = FakeHTTPServer(self)
            # A short poll interval keeps close() (hence every test teardown) fast.
            serve = self._server.serve_forever
            self._thread = threading.Thread(target=serve, kwargs={"poll_interval": 0.05}, daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        self._stop.set()
        server.shutdown()
        server.server_close()
        server.drop_connections()
        if thread is not None:
            thread.join(2.0)

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeProvider is not started")
        return int(self._server.server_address[1])

    @property
    def live_connections(self) -> int:
        """Connections the server holds open right now (handler threads still running)."""
        return self._server.live_connections if self._server is not None else 0

    def connection_open(self, connection: int) -> bool:
        """Whether the connection a request came over (`RecordedRequest.connection`) is still open."""
        return self._server.connection_open(connection) if self._server is not None else False

    @property
    def anthropic_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.anthropic_base_url}/v1"

    # -- scripting ----------------------------------------------------------------------

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            for reply in replies:
                self._queue.append([reply, reply.repeat])

    def enqueue_for(self, marker: str, *replies: Reply) -> None:
        """Replies only for requests whose body contains `marker` (FIFO, like `enqueue`).

        Concurrent conversations arrive in any order; giving each a marker in its messages
        gives each its own script. Requests matching no marker use the shared queue.
        """
        with self._lock:
            queue = self._keyed.setdefault(marker, deque())
            for reply in replies:
                queue.append([reply, reply.repeat])

    @property
    def pending(self) -> int:
        """Queued replies not yet fully served (the default is not counted)."""
        with self._lock:
            return len(self._queue)

    def clear(self) -> None:
        """Forget queue, default, recorded requests and options (for a provider shared by tests)."""
        with self._lock:
            self._queue.clear()
            self._keyed.clear()
            self.requests.clear()
        self.default = None
        self.api_key = None
        self.known_models = None
        self.context_window = None
        self.reject_null_content = False
        self.server_header = None
        self.owned_by = "fakeprovider"

    # -- used by the handler ------------------------------------------------------------

    def _take_reply(self, body_text: str = "") -> Reply | None:
        with self._lock:
            queue = next((q for marker, q in self._keyed.items() if q and marker in body_text), self._queue)
            if not queue:
                return self.default
            entry = queue[0]
            entry[1] = int(entry[1]) - 1
            if entry[1] <= 0:
                queue.popleft()
            reply = entry[0]
            assert isinstance(reply, Reply)
            return reply

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_id(self) -> int:
        return next(self._ids)
