"""The server process: `python -m herald.local.serve <llama_cpp.server arguments>`.

A thin wrapper around llama-cpp-python's own server entry point that adds:

* two chat formats, registered before the server starts: "herald-qa", the few-shot
  question-and-answer frame for pretrained models (see `qa_format`), and "herald-gemma3",
  Gemma 3's chat turns with tool calls and results kept (see `chat_format`);
* in both, control tokens other than end-of-generation are never sampled. Their text is
  dropped when the answer is decoded, so a pretrained model that "opens a new turn"
  (`<start_of_turn>user`) glued words together ("mendatanguser");
* a `Server: herald-local` header on every response, so a client that meets it (through any
  address, even a proxy) knows it continues a trailing assistant message
  (`herald.llm.continuation.server_kind_from`);
* a watchdog that exits when the Herald process that started it is gone. The server runs in
  its own process group (so Ctrl-C in the terminal doesn't reach it and Herald can kill it
  as a whole); without the watchdog a crashed or SIGKILLed Herald would leave it running.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable, Iterable, cast

CHAT_FORMAT = "herald-gemma3"
"""Gemma 3's chat turns: for instruction-tuned Gemma 3 models."""
QA_FORMAT = "herald-qa"
"""The few-shot question-and-answer frame: for pretrained models, such as the packaged one."""
PARENT_PID_ENV = "HERALD_LOCAL_PARENT_PID"


def register_chat_formats() -> None:
    """Make `--chat_format herald-qa` and `--chat_format herald-gemma3` known to llama-cpp-python."""
    from llama_cpp import llama_chat_format

    from herald.local.chat_format import END_OF_TURN, render_gemma3
    from herald.local.qa_format import QA_STOP, finish_answer, render_qa
    from herald.local.prompt_text import finish_continued

    def gemma(messages: Any, tools: Any = None, tool_choice: Any = None, **_: Any) -> Any:
        prompt = render_gemma3(messages, tools=tools, tool_choice=tool_choice)
        return llama_chat_format.ChatFormatterResponse(prompt=prompt, stop=END_OF_TURN)

    def qa(messages: Any, tools: Any = None, tool_choice: Any = None, **_: Any) -> Any:
        prompt = render_qa(messages, tools=tools, tool_choice=tool_choice)
        return llama_chat_format.ChatFormatterResponse(prompt=prompt, stop=list(QA_STOP))

    registry = llama_chat_format.LlamaChatCompletionHandlerRegistry()
    registry.register_chat_completion_handler(CHAT_FORMAT, _handler(gemma, finish=finish_continued), overwrite=True)
    registry.register_chat_completion_handler(QA_FORMAT, _handler(qa, finish=finish_answer), overwrite=True)


def _handler(formatter: Callable[..., Any], finish: Callable[[Any, Any], Any] | None = None) -> Callable[..., Any]:
    """llama-cpp-python's handler for `formatter`, sampling no control token, its result passed to
    `finish` (with the request's messages); a stream ends with a usage chunk (`herald.local.usage`)."""
    from llama_cpp import LogitsProcessorList, llama_chat_format

    from herald.local.usage import with_usage

    base = llama_chat_format.chat_formatter_to_chat_completion_handler(formatter)

    def handle(*, llama: Any, logits_processor: Any = None, **kwargs: Any) -> Any:
        processors = LogitsProcessorList([*(logits_processor or []), _control_token_ban(llama)])
        result = base(llama=llama, logits_processor=processors, **kwargs)
        result = finish(result, kwargs.get("messages")) if finish is not None else result
        if isinstance(result, dict):
            return result  # a plain answer: the server counted its usage

        def prompt_tokens() -> int:
            prompt = formatter(messages=kwargs.get("messages"), tools=kwargs.get("tools"), tool_choice=kwargs.get("tool_choice")).prompt
            return len(llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=True))

        def count(text: str) -> int:
            return len(llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)) if text else 0

        chunks = cast("Iterable[dict[str, Any]]", result)  # stream chunks are plain dicts (TypedDicts)
        return with_usage(chunks, prompt_tokens=prompt_tokens, count=count)

    return handle


_BANS: dict[int, Callable[[Any, Any], Any]] = {}


def _control_token_ban(llama: Any) -> Callable[[Any, Any], Any]:
    """A logits processor that rules out every control token except end-of-generation ones.

    Built once per model: scanning Gemma's 262k-token vocabulary takes about 0.1 s.
    """
    key = id(llama)
    if key not in _BANS:
        import llama_cpp
        import numpy as np

        vocab = llama._model.vocab
        banned = np.array(
            [
                token
                for token in range(llama.n_vocab())
                if llama_cpp.llama_vocab_is_control(vocab, token) and not llama_cpp.llama_vocab_is_eog(vocab, token)
            ],
            dtype=np.intc,
        )

        def ban(input_ids: Any, scores: Any) -> Any:
            scores[banned] = -np.inf
            return scores

        _BANS[key] = ban
    return _BANS[key]


SERVER_HEADER = (b"server", b"herald-local")
"""Sent on every response (beside uvicorn's own `server: uvicorn`): see `herald.llm.continuation`."""


class ServerHeader:
    """ASGI middleware adding `SERVER_HEADER` to every HTTP response of `app`."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Any) -> None:
            if message.get("type") == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), SERVER_HEADER]}
            await send(message)

        await self.app(scope, receive, send_with_header)


def _identify_server() -> None:
    """Make the llama-cpp-python server's app send `SERVER_HEADER` (its entry point builds the app)."""
    import llama_cpp.server.__main__ as entry

    build = entry.create_app

    def create_app(*args: Any, **kwargs: Any) -> Any:
        app = build(*args, **kwargs)
        app.add_middleware(ServerHeader)
        return app

    entry.create_app = create_app


def watch_parent(parent_pid: int, *, interval: float = 0.5) -> None:
    """Exit this process as soon as `parent_pid` is no longer our parent (it died)."""

    def run() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(0)  # nothing to flush: the model is read-only and requests die with us

    threading.Thread(target=run, name="herald-parent-watchdog", daemon=True).start()


def main() -> None:
    parent = os.environ.get(PARENT_PID_ENV)
    if parent and parent.isdigit():
        watch_parent(int(parent))
    register_chat_formats()
    _identify_server()
    from llama_cpp.server.__main__ import main as server_main

    server_main()  # type: ignore[no-untyped-call]  # parses sys.argv, which holds the llama_cpp.server arguments


if __name__ == "__main__":
    main()
