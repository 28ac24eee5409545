"""`web_extract`: fetch a web page and return its readable text."""

from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import urlsplit

import httpx

from herald.tools.base import ToolContext, ToolResult, function_schema, one_line
from herald.tools.html_text import html_to_text

TIMEOUT = 20.0
MAX_BYTES = 2_000_000
USER_AGENT = "Herald/0.1 (+web_extract)"
_TEXTUAL = ("text/", "application/json", "application/xml", "application/xhtml+xml", "application/javascript")


class WebExtractTool:
    """Fetches an http(s) URL (size and time capped) and returns title + text."""

    name = "web_extract"
    toolset = "web"
    read_only = True
    schema = function_schema(
        "web_extract",
        "Fetch a web page (http or https) and return its title and readable text "
        "(scripts, styles and markup removed). Plain text and JSON are returned as they are.",
        {"url": {"type": "string", "description": "The http:// or https:// URL to fetch."}},
        ["url"],
    )

    def __init__(self, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES, transport: httpx.BaseTransport | None = None) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._transport = transport  # tests may inject one; None means the real network

    def preview(self, args: Mapping[str, Any]) -> str:
        """The URL."""
        return one_line(args.get("url", ""))

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Fetch and extract, or say why the page could not be read."""
        url: str = args["url"].strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return ToolResult(f"Error: only http:// and https:// URLs can be fetched, got {url!r}.", ok=False)
        try:
            with httpx.Client(
                timeout=self.timeout, follow_redirects=True, max_redirects=5,
                headers={"User-Agent": USER_AGENT}, transport=self._transport,
            ) as client:
                with client.stream("GET", url) as response:
                    if response.status_code >= 400:
                        return ToolResult(f"Error: HTTP {response.status_code} {response.reason_phrase} for {url}", ok=False)
                    body, truncated = self._read_capped(response, ctx)
                    if body is None:
                        return ToolResult("Error: interrupted by the user while downloading.", ok=False)
                    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
                    charset = response.charset_encoding or "utf-8"
                    final_url = str(response.url)
        except httpx.TimeoutException:
            return ToolResult(f"Error: timed out after {self.timeout:g}s fetching {url}", ok=False)
        except httpx.HTTPError as exc:
            return ToolResult(f"Error: could not fetch {url}: {exc}", ok=False)

        if kind and not kind.startswith(_TEXTUAL):
            return ToolResult(f"Error: {final_url} is {kind}, not a web page or text; cannot extract text.", ok=False)
        try:
            text = body.decode(charset, errors="replace")
        except LookupError:  # a charset name Python does not know
            text = body.decode("utf-8", errors="replace")
        header = [f"URL: {final_url}"]
        if kind in ("text/html", "application/xhtml+xml") or (not kind and "<html" in text[:1000].lower()):
            title, text = html_to_text(text)
            if title:
                header.insert(0, f"Title: {title}")
        if truncated:
            header.append(f"[page larger than {self.max_bytes:,} bytes; only the start was read]")
        return ToolResult("\n".join(header) + "\n\n" + (text.strip() or "(no readable text)"))

    def _read_capped(self, response: httpx.Response, ctx: ToolContext) -> tuple[bytes | None, bool]:
        data = bytearray()
        for chunk in response.iter_bytes():
            if ctx.is_interrupted():
                return None, False
            data += chunk
            if len(data) > self.max_bytes:
                return bytes(data[: self.max_bytes]), True
        return bytes(data), False
