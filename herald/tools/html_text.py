"""Turning an HTML page into readable text with the standard library's `html.parser`."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Content of these elements is never text a reader sees.
_HIDDEN = {"script", "style", "noscript", "template", "svg", "iframe", "object", "canvas", "head"}
_BLOCK = {
    "p", "div", "section", "article", "main", "header", "footer", "nav", "aside", "ul", "ol", "li",
    "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "form", "br", "hr",
    "dl", "dt", "dd", "figure", "figcaption", "details", "summary",
}
_VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self._in_title = False
        self._hidden_depth = 0
        self._chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in _HIDDEN and tag not in _VOID:
            self._hidden_depth += 1
        if tag in _BLOCK:
            self._chunks.append("\n")
        if tag == "li":
            self._chunks.append("- ")
        elif tag in ("h1", "h2", "h3"):
            self._chunks.append("#" * int(tag[1]) + " ")
        elif tag in ("td", "th"):
            self._chunks.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _HIDDEN and self._hidden_depth:
            self._hidden_depth -= 1
        if tag in _BLOCK and tag != "li":  # keep list items on consecutive lines
            self._chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._hidden_depth:
            self._chunks.append(data)

    def text(self) -> str:
        raw = "".join(self._chunks)
        lines = (" ".join(line.split()) for line in raw.splitlines())
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> tuple[str, str]:
    """Return (title, readable text) of an HTML document; scripts, styles and tags removed."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return " ".join(parser.title.split()), parser.text()
