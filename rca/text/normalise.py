"""Normalisation of contact text for embedding, kept apart from the display text.

E-mail contacts carry markup, quoted history, greetings and signatures that say nothing about the
issue but dominate a sentence embedding ("Hi team, ... Kind regards, Jane" looks like every other
e-mail). This module strips that boilerplate so similar issues land near each other. The display
text is never touched: callers keep the original (redacted) text for people to read.
"""

from __future__ import annotations

import hashlib
import re
from html import unescape
from html.parser import HTMLParser

import pandas as pd

HASH_DIGEST_BYTES = 16
#: A signature block after a sign-off line is at most this many short lines.
SIGNATURE_MAX_LINES = 6
SIGNATURE_MAX_LINE_CHARS = 60
MAX_GREETING_PASSES = 2
#: Reply headers wrap over a few lines in some clients; bound the search so it stays linear.
REPLY_HEADER_MAX_CHARS = 300

_HTML_TAG_RE = re.compile(r"<(?:[A-Za-z][A-Za-z0-9]*\b[^<>]*|/[A-Za-z][A-Za-z0-9]*\s*|!--.*?--)>")
_SKIPPED_TAGS = frozenset({"script", "style", "head", "title", "blockquote"})
_BLOCK_TAGS = frozenset(
    {"br", "p", "div", "li", "ul", "ol", "tr", "td", "th", "table", "hr"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer"}
)

_REPLY_HEADER_RES: tuple[re.Pattern[str], ...] = (
    # On Mon, 3 Jun 2024 at 10:00, Jane Doe <jane@example.com> wrote:
    re.compile(
        rf"\bOn\s(?=[^\n]*\d)[^\n]{{0,{REPLY_HEADER_MAX_CHARS}}}?"
        rf"(?:\n[^\n]{{0,{REPLY_HEADER_MAX_CHARS}}}?)?\bwrote:"
    ),
    re.compile(r"-{2,}\s*Original Message\s*-{2,}", re.IGNORECASE),
    # Outlook: From: X  Sent: Monday ...  (also "Date:" in other clients)
    re.compile(rf"\bFrom:\s.{{0,{REPLY_HEADER_MAX_CHARS}}}?\b(?:Sent|Date):", re.DOTALL),
    re.compile(r"^_{10,}\s*$", re.MULTILINE),
)
_QUOTED_LINE_RE = re.compile(r"^[ \t]*>.*$\n?", re.MULTILINE)
_SIGNATURE_RES: tuple[re.Pattern[str], ...] = (
    re.compile(r"^--[ \t]*$", re.MULTILINE),
    re.compile(
        r"\bSent from my (?:iPhone|iPad|Android|Samsung|Galaxy|Pixel|mobile|phone|BlackBerry)\b"
        r"|\bSent from (?:Mail for Windows|Yahoo Mail|Outlook)\b"
        r"|\bGet Outlook for (?:iOS|Android)\b"
    ),
)

_SIGN_OFF = (
    r"(?i:thanks(?: (?:again|so much|a lot|in advance))?|thank you(?: (?:so much|in advance))?"
    r"|many thanks|kind regards|best regards|warm regards|regards|best wishes|best|cheers"
    r"|sincerely|yours sincerely|yours faithfully|yours truly|br|thx|ty)"
)
_NAME_WORD = r"(?!I\b)[A-Z][A-Za-z'.-]*"
_FORMAL_SIGN_OFF = (
    r"(?i:kind regards|best regards|warm regards|regards|best wishes|sincerely"
    r"|yours sincerely|yours faithfully|yours truly)"
)
#: A sign-off that opens a signature block: a formal one, or any sign-off followed by a comma.
#: "thanks" alone on a chat line is left alone because real content often follows it.
_SIGN_OFF_LINE_RE = re.compile(
    rf"^[ \t]*(?:{_FORMAL_SIGN_OFF}[ \t]*[,.!]*|{_SIGN_OFF}[ \t]*,)[ \t]*$", re.MULTILINE
)
_TRAILING_SIGN_OFF_RE = re.compile(
    rf"(?:^|(?<=[.!?\n]))\s*{_SIGN_OFF}\s*[,.!]*(?:\s*{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,2}})?"
    r"\s*[.!]*\s*\Z"
)

_GREETING_FILLER = (
    r"(?i:there|team|all|everyone|folks|guys|support|sir(?:\s*(?:or|/)\s*madam)?|madam|again)"
)
_GREETING_WORD = r"(?i:hi|hello|hey|hiya|dear|greetings|good (?:morning|afternoon|evening|day))"
#: "Hi team," / "Dear John Smith," / "hi john," (one lower-case name needs a comma) / "Hello ".
_GREETING_RE = re.compile(
    rf"\A\s*{_GREETING_WORD}\b"
    rf"(?:(?:[ \t]+(?:{_GREETING_FILLER}|{_NAME_WORD})){{0,3}}[ \t]*[,!.:;\n]+"
    r"|[ \t]+(?!i\b)[a-z][a-z'-]*[ \t]*[,!:]+"
    r"|\s+)"
)
_WHITESPACE_RE = re.compile(r"\s+")
# Social-channel markup (issue 18): who a message is addressed to, links, retweet markers and
# emoji say nothing about the problem, yet a leading "@BrandHelp" made brands into themes.
_RETWEET_RE = re.compile(r"^\s*RT\b:?", re.IGNORECASE)
_HANDLE_RE = re.compile(r"(?<![\w.])@\w{1,30}|\[HANDLE\]")
_URL_RE = re.compile(r"\bhttps?://\S+|\bwww\.\S+|\[URL\]", re.IGNORECASE)
_HASHTAG_RE = re.compile(r"(?<![\w&])#(\w+)")  # the tag's word stays: #refund is a topic
_EMOJI_RE = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d\U000e0020-\U000e007f]+"
)
#: The leading handle(s) a message opens with: whom it is addressed to.
ADDRESSED_RE = re.compile(r"^\s*(?:RT\b:?\s*)?@(\w{1,30})")
_CONTENT_RE = re.compile(r"\w")


class _TextExtractor(HTMLParser):
    """Collects visible text; block tags become line breaks so line-based rules still work."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(text: str) -> str:
    """Visible text of an HTML fragment; plain text only gets its entities unescaped."""
    if not _HTML_TAG_RE.search(text):
        return unescape(text)
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def strip_quoted_replies(text: str) -> str:
    """Drop everything after the first reply header and every '>'-quoted line."""
    cut = len(text)
    for pattern in _REPLY_HEADER_RES:
        match = pattern.search(text, 0, cut)
        if match:
            cut = min(cut, match.start())
    return _QUOTED_LINE_RE.sub("", text[:cut])


def strip_signature(text: str) -> str:
    """Drop a signature block: after '-- ', a 'Sent from my iPhone' marker, or a sign-off block."""
    for pattern in _SIGNATURE_RES:
        match = pattern.search(text)
        if match:
            text = text[: match.start()]
    text = _strip_sign_off_block(text)
    return _TRAILING_SIGN_OFF_RE.sub("", text)


def _strip_sign_off_block(text: str) -> str:
    """'Kind regards,' on its own line followed only by a few short lines (name, title, phone)."""
    for match in _SIGN_OFF_LINE_RE.finditer(text):
        tail = [line for line in text[match.end() :].splitlines() if line.strip()]
        if len(tail) <= SIGNATURE_MAX_LINES and all(
            len(line) <= SIGNATURE_MAX_LINE_CHARS for line in tail
        ):
            return text[: match.start()]
    return text


def strip_greeting(text: str) -> str:
    """Drop 'Hi team,' / 'Dear Support,' / 'Good morning,' style openers."""
    for _ in range(MAX_GREETING_PASSES):
        stripped = _GREETING_RE.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return text


def strip_social(text: str) -> str:
    """Without retweet markers, @handles, links and emoji; hashtags keep their word."""
    text = _RETWEET_RE.sub(" ", text)
    text = _HANDLE_RE.sub(" ", text)
    text = _URL_RE.sub(" ", text)
    text = _HASHTAG_RE.sub(r"\1", text)
    return _EMOJI_RE.sub(" ", text)


def addressed_to(text: str) -> str | None:
    """The handle a message opens with, case-folded ('@AmazonHelp ...' -> 'amazonhelp')."""
    match = ADDRESSED_RE.match(text) if isinstance(text, str) else None
    return match.group(1).casefold() if match else None


def collapse_whitespace(text: str) -> str:
    return _WHITESPACE_RE.sub(" ", text).strip()


def normalise_for_embedding(text: str) -> str:
    """Issue-bearing text only: no markup, quoted history, greeting or signature.

    Never returns empty for a text with content: if the stripping removes every word (a contact
    that is only "Thanks, John"), the whitespace-collapsed visible text is returned instead.
    """
    visible = html_to_text(text.replace("\r\n", "\n").replace("\r", "\n"))
    body = strip_greeting(strip_signature(strip_quoted_replies(strip_social(visible))))
    normalised = collapse_whitespace(body)
    if _CONTENT_RE.search(normalised):
        return normalised
    fallback = collapse_whitespace(visible)
    return fallback if _CONTENT_RE.search(fallback) else collapse_whitespace(text)


def text_hash(normalised: str) -> str:
    """Stable cache key for an embedding: blake2b-128 of the lower-cased normalised text."""
    digest = hashlib.blake2b(normalised.lower().encode("utf-8"), digest_size=HASH_DIGEST_BYTES)
    return digest.hexdigest()


def normalise_series(s: pd.Series) -> pd.Series:
    """Normalise a column of texts; missing values (NaN/None) and non-strings pass through."""
    return s.map(lambda value: normalise_for_embedding(value) if isinstance(value, str) else value)
