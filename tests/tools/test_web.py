"""web_extract against a loopback HTTP server; web_search with fake and SearXNG backends."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from herald.tools import SearxngBackend, ToolRegistry
from herald.tools.web_extract import WebExtractTool
from herald.tools.web_search import backend_from_env

PAGE = """<!doctype html><html><head><title>  Herald   Test </title>
<style>body { color: red }</style><script>alert("no")</script></head>
<body><nav>Menu</nav><h1>Main &amp; heading</h1><p>First <b>para</b>graph.</p>
<script type="text/javascript">var hidden = 1;</script>
<ul><li>one</li><li>two</li></ul><noscript>enable js</noscript></body></html>"""


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/page":
            self._send(200, PAGE.encode(), "text/html; charset=utf-8")
        elif url.path == "/latin1":
            self._send(200, "<title>caf\xe9</title><p>cr\xe8me</p>".encode("latin-1"), "text/html; charset=iso-8859-1")
        elif url.path == "/plain":
            self._send(200, b"just text", "text/plain")
        elif url.path == "/big":
            self._send(200, b"A" * 5000, "text/plain")
        elif url.path == "/image":
            self._send(200, b"\x89PNG", "image/png")
        elif url.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/plain")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif url.path == "/search":
            query = parse_qs(url.query)
            assert query["format"] == ["json"]
            results = [{"title": f"Result {i}", "url": f"https://example.org/{i}", "content": f"about {query['q'][0]}"} for i in range(10)]
            self._send(200, json.dumps({"results": results}).encode(), "application/json")
        else:
            self._send(404, b"nope", "text/plain")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def fetch(ctx: Any, url: str, **tool_args: Any) -> Any:
    return ToolRegistry([WebExtractTool(**tool_args)]).execute("web_extract", {"url": url}, ctx)


def test_extracts_title_and_readable_text(server: str, ctx: Any) -> None:
    result = fetch(ctx, f"{server}/page")
    assert result.ok
    assert result.content == (
        f"Title: Herald Test\nURL: {server}/page\n\nMenu\n\n# Main & heading\n\nFirst paragraph.\n\n- one\n- two"
    )
    for hidden in ("alert", "color: red", "hidden", "enable js"):
        assert hidden not in result.content


def test_charset_from_headers(server: str, ctx: Any) -> None:
    result = fetch(ctx, f"{server}/latin1")
    assert result.content.startswith("Title: caf\xe9") and "cr\xe8me" in result.content


def test_plain_text_redirect_and_size_cap(server: str, ctx: Any) -> None:
    assert fetch(ctx, f"{server}/redirect").content == f"URL: {server}/plain\n\njust text"
    big = fetch(ctx, f"{server}/big", max_bytes=100)
    assert big.ok and "[page larger than 100 bytes; only the start was read]" in big.content
    assert big.content.endswith("\n\n" + "A" * 100)


def test_errors(server: str, ctx: Any) -> None:
    missing = fetch(ctx, f"{server}/missing")
    assert not missing.ok and missing.content == f"Error: HTTP 404 Not Found for {server}/missing"
    image = fetch(ctx, f"{server}/image")
    assert not image.ok and "is image/png, not a web page" in image.content
    for url in ("file:///etc/passwd", "ftp://example.org/x", "javascript:alert(1)", "127.0.0.1/page"):
        bad = fetch(ctx, url)
        assert not bad.ok and "only http:// and https:// URLs" in bad.content


def test_connection_refused(ctx: Any) -> None:
    result = fetch(ctx, "http://127.0.0.1:9/", timeout=2)
    assert not result.ok and result.content.startswith("Error: could not fetch http://127.0.0.1:9/")


# --- web_search -------------------------------------------------------------


class FakeBackend:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def search(self, query: str, limit: int) -> list[dict[str, str]]:
        self.calls.append((query, limit))
        return [{"title": "Herald", "url": "https://example.org/herald", "snippet": "An   agent\nthat never breaks."}]


def test_web_search_absent_without_backend() -> None:
    registry = ToolRegistry.from_toolsets(["web"], environ={})
    assert registry.names() == ["web_extract"]
    assert "web_search" not in [s["function"]["name"] for s in registry.schemas()]
    assert "HERALD_WEB_SEARCH=searxng" in registry.web_search_message
    assert "HERALD_SEARXNG_URL" in registry.web_search_message


def test_web_search_with_fake_backend(ctx: Any) -> None:
    backend = FakeBackend()
    registry = ToolRegistry.from_toolsets(["web"], web_search_backend=backend, environ={})
    assert "web_search" in registry.names() and registry.web_search_message == ""
    assert registry.is_read_only("web_search")
    result = registry.execute("web_search", {"query": "herald agent", "limit": 3}, ctx)
    assert result.ok
    assert result.content == "1. Herald\n   https://example.org/herald\n   An agent that never breaks."
    assert backend.calls == [("herald agent", 3)]


def test_backend_failure_is_an_error_result(ctx: Any) -> None:
    class Broken:
        def search(self, query: str, limit: int) -> list[dict[str, str]]:
            raise ValueError("instance is down")

    result = ToolRegistry.from_toolsets(["web"], web_search_backend=Broken(), environ={}).execute("web_search", {"query": "x"}, ctx)
    assert not result.ok and result.content == "Error: web search failed: instance is down"


def test_backend_from_env() -> None:
    assert backend_from_env({})[0] is None
    backend, _ = backend_from_env({"HERALD_WEB_SEARCH": "searxng", "HERALD_SEARXNG_URL": "http://127.0.0.1:8888/"})
    assert isinstance(backend, SearxngBackend) and backend.base_url == "http://127.0.0.1:8888"
    assert isinstance(backend_from_env({"HERALD_SEARXNG_URL": "http://127.0.0.1:8888"})[0], SearxngBackend)
    none, why = backend_from_env({"HERALD_WEB_SEARCH": "bing"})
    assert none is None and "unknown HERALD_WEB_SEARCH='bing'" in why
    none, why = backend_from_env({"HERALD_WEB_SEARCH": "searxng"})
    assert none is None and "needs HERALD_SEARXNG_URL" in why


def test_searxng_backend_end_to_end(server: str, ctx: Any) -> None:
    registry = ToolRegistry.from_toolsets(["web"], environ={"HERALD_WEB_SEARCH": "searxng", "HERALD_SEARXNG_URL": server})
    result = registry.execute("web_search", {"query": "tools"}, ctx)
    assert result.ok
    lines = result.content.splitlines()
    assert lines[:3] == ["1. Result 0", "   https://example.org/0", "   about tools"]
    assert lines[-3].startswith("5. ")
