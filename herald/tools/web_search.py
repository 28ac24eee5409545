"""`web_search`: search the web through a pluggable backend.

A backend is any object with `search(query, limit) -> list[{"title", "url", "snippet"}]`.
Herald ships one: a SearXNG instance's JSON API (`HERALD_WEB_SEARCH=searxng`,
`HERALD_SEARXNG_URL=https://searx.example.org`). Without a backend the tool is not offered.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol, runtime_checkable

import httpx

from herald.tools.base import ToolContext, ToolResult, function_schema, one_line

DEFAULT_LIMIT = 5
MAX_LIMIT = 20
BACKEND_ENV = "HERALD_WEB_SEARCH"
SEARXNG_URL_ENV = "HERALD_SEARXNG_URL"
HOW_TO_CONFIGURE = (
    "web_search is disabled: no search backend is configured. Set "
    f"{BACKEND_ENV}=searxng and {SEARXNG_URL_ENV}=<base URL of a SearXNG instance with the JSON "
    "format enabled>, or pass web_search_backend=<object with search(query, limit)> to "
    "ToolRegistry.from_toolsets."
)


@runtime_checkable
class WebSearchBackend(Protocol):
    """Anything that can answer a web search."""

    def search(self, query: str, limit: int) -> list[dict[str, str]]:
        """Up to `limit` results, each `{"title": …, "url": …, "snippet": …}`."""
        ...


class SearxngBackend:
    """Queries a SearXNG-compatible `/search?format=json` endpoint."""

    def __init__(self, base_url: str, timeout: float = 15.0, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._transport = transport

    def search(self, query: str, limit: int) -> list[dict[str, str]]:
        """Run the query; raises `httpx.HTTPError` or `ValueError` when the instance fails."""
        with httpx.Client(timeout=self.timeout, transport=self._transport) as client:
            response = client.get(f"{self.base_url}/search", params={"q": query, "format": "json"})
            response.raise_for_status()
            payload = response.json()
        if not isinstance(payload, dict) or not isinstance(payload.get("results"), list):
            raise ValueError("the SearXNG instance did not return JSON results (is format=json enabled?)")
        return [
            {"title": str(r.get("title", "")), "url": str(r.get("url", "")), "snippet": str(r.get("content", ""))}
            for r in payload["results"][:limit]
            if isinstance(r, dict)
        ]


def backend_from_env(environ: Mapping[str, str]) -> tuple[WebSearchBackend | None, str]:
    """The backend the environment names, or (None, an explanation of how to configure one)."""
    name = environ.get(BACKEND_ENV, "").strip().lower()
    url = environ.get(SEARXNG_URL_ENV, "").strip()
    if not name and url:
        name = "searxng"  # the URL alone says which backend is meant
    if not name:
        return None, HOW_TO_CONFIGURE
    if name != "searxng":
        return None, f"web_search is disabled: unknown {BACKEND_ENV}={name!r} (known backends: searxng). " + HOW_TO_CONFIGURE
    if not url:
        return None, f"web_search is disabled: {BACKEND_ENV}=searxng needs {SEARXNG_URL_ENV} set to the instance's base URL."
    return SearxngBackend(url), ""


class WebSearchTool:
    """Searches the web with the configured backend and lists title, URL and snippet."""

    name = "web_search"
    toolset = "web"
    read_only = True
    schema = function_schema(
        "web_search",
        "Search the web. Returns a numbered list of results with title, URL and snippet; "
        "use web_extract to read a result.",
        {
            "query": {"type": "string", "description": "What to search for."},
            "limit": {"type": "integer", "description": f"Number of results (default {DEFAULT_LIMIT}, max {MAX_LIMIT})."},
        },
        ["query"],
    )

    def __init__(self, backend: WebSearchBackend) -> None:
        self.backend = backend

    def preview(self, args: Mapping[str, Any]) -> str:
        """The query."""
        return one_line(args.get("query", ""))

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Ask the backend and format its results."""
        query: str = args["query"].strip()
        if not query:
            return ToolResult("Error: 'query' is empty.", ok=False)
        limit = min(max(args.get("limit", DEFAULT_LIMIT), 1), MAX_LIMIT)
        try:
            results = self.backend.search(query, limit)
        except (httpx.HTTPError, ValueError) as exc:
            return ToolResult(f"Error: web search failed: {exc}", ok=False)
        if not results:
            return ToolResult(f"No results for {query!r}.")
        out = []
        for i, r in enumerate(results[:limit], 1):
            out.append(f"{i}. {r.get('title') or '(untitled)'}\n   {r.get('url', '')}")
            if r.get("snippet"):
                out.append(f"   {one_line(r['snippet'], 300)}")
        return ToolResult("\n".join(out))
