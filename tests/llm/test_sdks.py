"""The SDKs load on first use: a chat-only run never pays for importing `anthropic`."""

from __future__ import annotations

import subprocess
import sys

import pytest

from herald.errors import ProviderUnreachable
from herald.llm.sdk_errors import translate_errors
from herald.llm.sdks import loaded_classes, loaded_errors


def _modules_after(code: str) -> set[str]:
    probe = code + "\nimport sys\nprint(' '.join(sorted(m for m in sys.modules if m in ('openai', 'anthropic'))))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_importing_herald_and_its_cli_loads_no_anthropic() -> None:
    assert "anthropic" not in _modules_after("import herald, herald.cli")


def test_an_openai_run_needs_no_anthropic() -> None:
    code = (
        "from herald.llm.clients import make_openai_client\n"
        "from herald.llm.endpoint import Endpoint\n"
        "make_openai_client(Endpoint(base_url='http://127.0.0.1:9/v1', api_key='k', api_mode='chat_completions'), timeout=1).close()"
    )
    assert _modules_after(code) == {"openai"}


def test_an_anthropic_client_loads_its_sdk_and_its_errors_are_translated() -> None:
    import anthropic
    import httpx2

    assert anthropic.APIConnectionError in loaded_errors("APIConnectionError")
    assert anthropic.Anthropic in loaded_classes("Anthropic")
    error = anthropic.APIConnectionError(request=httpx2.Request("GET", "http://127.0.0.1:9"))
    with pytest.raises(ProviderUnreachable, match="127.0.0.1:9 unreachable"):
        with translate_errors(where="127.0.0.1:9"):
            raise error


def test_only_exception_classes_are_offered_to_except() -> None:
    assert loaded_errors("OpenAI") == ()
    assert loaded_errors("NoSuchName") == ()
