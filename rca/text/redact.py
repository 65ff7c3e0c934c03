"""PII redaction for support-contact text.

Contact text is shown to programme managers and SOP authors, so every identifier that points at a
person or an account is replaced by a typed placeholder before the text leaves ingest. The
detectors are regexes compiled once at import plus cheap validators (Luhn, IBAN mod-97, digit
counts) that keep amounts, dates, versions and card tails readable.

Design decisions:

* **URL** — a URL is redacted only when it can carry something private: a query string, a
  fragment or user-info, a path segment with a run of ``URL_DIGIT_RUN`` or more digits, or a long
  random-looking path token. ``https://example.com/help`` and bare domains stay, because they are
  what an SOP author needs to see ("customer could not find the returns page").
* **Accounts** — valid-checksum IBANs are ``[IBAN]`` wherever they appear. Other bank account
  numbers have no checksum, so they are recognised only when labelled ("account number",
  "acct", "sort code", "routing number", "IBAN" with a bad checksum) and become ``[ACCOUNT]``.
  An unlabelled long digit run is still caught as ``[ID]``.
* **IDs** — ``min_digit_run`` (default 6) digits make an order/tracking id. Five-digit numbers
  are left alone: they collide with amounts, postcodes and invoice numbers such as ``#00108``
  that identify no person on their own.
  Hyphenated ids (``112-3456789-1234567``, ``CUST-00123456``) become one ``[ID]``; a word glued
  to the digits (``order113542617735902``) keeps the word. Amounts and quantities next to a
  currency or unit ("123456 yen"), ``YYYYMMDD`` dates and hex error codes (``0x80070005``) stay.
* **Cards** — 13–19 digits, a plausible issuer prefix (2–6) and a passing Luhn check. A run that
  is grouped like a card but fails Luhn is still redacted, as ``[ID]``. Groups may be split by
  a space, two spaces, a dash or a dot (``4111.1111.1111.1111``).
* **IP** — IPv4 (dotted quads after "version"/"build" are versions and stay) and IPv6 (any form
  ``ipaddress`` accepts with ``::`` or eight groups; a time such as ``10:30:00`` is not one).
* **E-mail** — local parts and domains may be non-ASCII (RFC 6531).
* **Short links** — any path on a link shortener (``bit.ly/abc``, ``t.co/xyz``) is a [URL].

Context rules live in ``rca.text.context`` (labelled values of any length, @handles, dates of
birth, names given as names and sign-offs, street addresses) and the citations no identifier
rule may touch ("15 U.S.C. 1691", "15usc1681c", "Section 110401 of the Heroes Act", CFR).
Masks an export already applied (``XXXX``, ``XX/XX/XXXX``, ``{$1400.00}``) are normalised by
``rca.text.premask``. Names without such context and towns after a street are left to the
person-facing NER pass (``rca.text.ner``, combined in ``rca.text.audience``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Iterator
from urllib.parse import urlsplit

import pandas as pd

from rca.text.context import (
    find_addresses,
    find_dates_of_birth,
    find_handles,
    find_labelled_values,
    find_names_in_context,
    protected_ranges,
)
from rca.text.premask import find_masks
from rca.text.spans import (
    ACCOUNT,
    CARD,
    EMAIL,
    IBAN,
    ID,
    IP,
    KIND_PRIORITY,
    PHONE,
    PLACEHOLDER_BY_KIND,
    PLACEHOLDERS,
    URL,
    PiiSpan,
    resolve_overlaps,
    splice,
)

#: Re-exported so callers keep one import for the vocabulary and the detectors.
__all__ = [
    "KIND_PRIORITY",
    "PLACEHOLDERS",
    "PLACEHOLDER_BY_KIND",
    "PiiSpan",
    "find_pii",
    "iban_valid",
    "luhn_valid",
    "redact",
    "redact_series",
]

DEFAULT_MIN_DIGIT_RUN = 6

CARD_MIN_DIGITS = 13
CARD_MAX_DIGITS = 19
#: Issuer prefixes in use: 2 (Mastercard 2-series), 3 (Amex/Diners/JCB), 4 (Visa), 5, 6.
CARD_ISSUER_FIRST_DIGITS = frozenset("23456")
CARD_GROUP_MIN_DIGITS = 3
CARD_GROUP_MAX_DIGITS = 6
CARD_MAX_GROUPS = CARD_MAX_DIGITS // CARD_GROUP_MIN_DIGITS
#: How people write card numbers; a Luhn-failing run grouped like this is still an [ID].
CARD_LIKE_GROUPINGS = frozenset({(4, 4, 4, 4), (4, 6, 5), (4, 6, 4), (4, 4, 4, 4, 3), (4, 4, 5)})

IBAN_MIN_CHARS = 15
IBAN_MAX_CHARS = 34
IBAN_MODULUS = 97

ACCOUNT_MIN_DIGITS = 6
PHONE_MIN_DIGITS = 7
PHONE_INTL_MIN_DIGITS = 8
PHONE_MAX_DIGITS = 15  # E.164
IP_OCTET_MAX = 255
URL_DIGIT_RUN = 4
URL_TOKEN_MIN_CHARS = 16
URL_SHORT_CODE_MIN_CHARS = 6
#: A path segment this long with this many capitals among lower-case letters is generated.
URL_MIXED_CASE_MIN_CHARS = 8
URL_MIXED_CASE_UPPERS = 3

_YEAR_RANGE = range(1900, 2100)
_MONTHS = range(1, 13)
_DAYS = range(1, 32)
_COMPACT_DATE_DIGITS = 8

# ---------------------------------------------------------------------------------------------
# Regexes (compiled once)
# ---------------------------------------------------------------------------------------------

_TRIGGER_RE = re.compile(
    r"[\d@/{]|www\.|XX|\b(?:name|holder|signed|regards|thanks|thank you|cheers|best"
    r"|sincerely|yours|br)\b",
    re.IGNORECASE,
)

#: Local parts and domains may be non-ASCII ("josé.núñez@correo.es", RFC 6531): \w is Unicode.
_EMAIL_RE = re.compile(r"(?<![\w.%+-])[\w.%+-][\w.%+'-]*@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,24}\b")

_URL_RE = re.compile(
    r"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>\"'\[\]{}|\\^`]+"
    r"|(?<![\w@./-])(?:[a-z0-9-]+\.)+[a-z]{2,24}/[^\s<>\"'\[\]{}|\\^`]*",
    re.IGNORECASE,
)
_URL_TRAILING_PUNCT = ".,;:!?)]}'\""
_URL_DIGIT_RUN_RE = re.compile(rf"\d{{{URL_DIGIT_RUN},}}")
_URL_SEGMENT_RE = re.compile(r"[A-Za-z0-9_-]+")
#: Link shorteners: any path on them is a code that opens someone's page, digits or not.
URL_SHORTENERS = frozenset(
    (  # noqa: SIM905
        "bit.ly t.co tinyurl.com goo.gl ow.ly is.gd buff.ly rb.gy cutt.ly shorturl.at tiny.cc"
        " lnkd.in amzn.to amzn.eu a.co youtu.be t.ly v.gd bl.ink rebrand.ly s.id fb.me wa.me"
        " t.me tr.im x.co db.tt"
    ).split()
)

_IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,32}", re.IGNORECASE)

_ACCOUNT_RE = re.compile(
    r"\b(?:(?:bank\s+)?account(?:\s+(?:number|no\.?|num|#))?|acct\.?(?:\s+(?:number|no\.?|#))?"
    r"|acc\.?\s*(?:number|no\.?|#)"
    r"|a/c(?:\s+(?:number|no\.?))?|sort[ -]?code|routing(?:\s+number)?|bsb)"
    r"\s*(?:is\s+|was\s+|[:#-]\s*)?"
    r"(?P<value>\d{2,}(?:[ -]\d{2,})*)(?!\d)",
    re.IGNORECASE,
)
_IBAN_LABEL_RE = re.compile(
    r"(?i:\biban)\s*(?:is\s+|[:#-]\s*)?"
    r"(?P<value>[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?)\b"
)

# Sequences of digit groups separated by a space (or two), a dash or a dot (cards, spaced ids).
_DIGIT_GROUPS_RE = re.compile(r"(?<![\w.,])\d+(?:(?:[ ]{1,2}|[.-])\d+)*(?!\w)")
_GROUP_SPLIT_RE = re.compile(r"\d+")

_PHONE_PATTERNS: tuple[re.Pattern[str], ...] = (
    # International: +44 20 7946 0958, +1 (415) 555-2671, +447700900123
    re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,6}(?!\d)"),
    # North American: (415) 555-2671, 415.555.2671, 1-800-555-0199, (415) 555-0134 ext. 12
    re.compile(
        r"(?<![\w+(])(?:1[ .-])?(?:\(\d{3}\)[ ]?|\d{3}[ .-])\d{3}[ .-]\d{4}"
        r"(?:,?[ ]?(?:ext\.?|extension|x)[ ]?\d{1,5})?(?![\w-])",
        re.IGNORECASE,
    ),
    # Chinese mobile: 138 0013 8000, 138-0013-8000
    re.compile(r"(?<![\w+])1[3-9]\d[ -]\d{4}[ -]\d{4}(?![\w-])"),
    # UK-style national with separators: 07700 900123, 020 7946 0958, 0161 496 0000
    re.compile(r"(?<![\w+])0[1-9]\d{1,3}[ .-]\d{3,6}(?:[ .-]\d{3,4})?(?![\w-])"),
    # UK area code in brackets: (020) 7946 0958
    re.compile(r"\(0[1-9]\d{1,3}\)[ ]?\d{3,4}[ .-]?\d{3,4}(?![\w-])"),
    # UK mobile written solid: 07700900123
    re.compile(r"(?<![\w+])07\d{9}(?!\w)"),
)
_PHONE_SEPARATORS = " .-"
_PHONE_LABELLED_RE = re.compile(
    r"\b(?:phone|tel|telephone|mobile|cell|whatsapp|call\s+me\s+(?:on|at)|text\s+me\s+(?:on|at)"
    r"|reach\s+me\s+(?:on|at))\b\s*(?:number\s*)?(?:is\s+|[:#-]\s*)?"
    r"(?P<value>\(?\d[\d().-]*(?:[ ]\(?\d[\d().-]*)*)",
    re.IGNORECASE,
)

#: Candidates for IPv6; ``ipaddress`` decides. A time ("10:30:00") is not a valid address.
_IPV6_RE = re.compile(
    r"(?<![\w:.])(?=[0-9A-Fa-f:]*::|(?:[0-9A-Fa-f]{1,4}:){7})[0-9A-Fa-f:]{3,39}(?![\w:])"
)
_IP_RE = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\d)")
_VERSION_CONTEXT_RE = re.compile(r"(?:version|ver\.?|build|release)\s*$", re.IGNORECASE)

# Alphanumeric tokens that contain a digit: order ids, tracking ids (1Z999AA10123456784).
_ID_TOKEN_RE = re.compile(r"(?<!\w)(?=[A-Za-z]*\d)[A-Za-z0-9]+(?![\w])")
_HYPHENATED_RE = re.compile(r"(?<![\w-])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+(?![\w-])")
#: US social security numbers (123-45-6789): no other common number is written 3-2-4.
_NATIONAL_ID_RE = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])")
#: Error codes such as 0x80070005 are root-cause evidence, not identifiers.
_HEX_LITERAL_RE = re.compile(r"0[xX][0-9A-Fa-f]+")
_GLUED_WORD_RE = re.compile(r"[a-z]{3,}(?=\d+$)")
_MONEY_BEFORE_RE = re.compile(r"(?:[£$€¥₹]|\b(?:usd|eur|gbp|aud|cad|inr|chf))\s?$", re.IGNORECASE)
#: An amount or a quantity ("123456 yen", "100000 points") is not an identifier.
_MONEY_AFTER_RE = re.compile(
    r"^(?:[.,]\d{1,2}\b|\s?(?:dollars?|euros?|pounds?|quid|yen|rupees?|usd|eur|gbp|aud|cad|inr"
    r"|chf|jpy|krw|sek|nok|dkk|pln|points|pts|miles|km|kg|steps|views|followers)\b)",
    re.IGNORECASE,
)
_CONTEXT_CHARS = 10


# ---------------------------------------------------------------------------------------------
# Validators
# ---------------------------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    """Luhn (mod-10) check used by every payment card scheme; random runs pass 1 time in 10."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def iban_valid(compact: str) -> bool:
    """ISO 13616 mod-97 check: move the first four chars to the end, letters to 10..35."""
    if not IBAN_MIN_CHARS <= len(compact) <= IBAN_MAX_CHARS or not compact.isalnum():
        return False
    rearranged = (compact[4:] + compact[:4]).upper()
    numeric = "".join(str(int(char, 36)) for char in rearranged)
    return int(numeric) % IBAN_MODULUS == 1


def _is_card_number(digits: str) -> bool:
    return (
        CARD_MIN_DIGITS <= len(digits) <= CARD_MAX_DIGITS
        and digits[0] in CARD_ISSUER_FIRST_DIGITS
        and luhn_valid(digits)
    )


def _is_compact_date(digits: str) -> bool:
    """YYYYMMDD with a plausible year, month and day: a date, not an order id."""
    if len(digits) != _COMPACT_DATE_DIGITS:
        return False
    year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:])
    return year in _YEAR_RANGE and month in _MONTHS and day in _DAYS


def _looks_like_money(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - _CONTEXT_CHARS) : start]
    after = text[end : end + _CONTEXT_CHARS]
    return bool(_MONEY_BEFORE_RE.search(before) or _MONEY_AFTER_RE.match(after))


def _is_sensitive_url(url: str) -> bool:
    """True when the URL can carry a token or an identifier, so it must not be shown."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.query or parts.fragment or "@" in parts.netloc:
        return True
    host = (parts.hostname or "").removeprefix("www.")
    if host in URL_SHORTENERS and parts.path.strip("/"):
        return True
    for segment in parts.path.split("/"):
        if _URL_DIGIT_RUN_RE.search(segment):
            return True
        if _URL_SEGMENT_RE.fullmatch(segment) and _looks_random(segment):
            return True
    return False


def _looks_random(segment: str) -> bool:
    """Path tokens that look generated rather than written: ids, share codes, short links.

    A long segment that mixes digits with letters or both letter cases, or a short-link code
    (``bit.ly/3xYz9Ab``) that has digits and both cases, is an id; ``how-to-return`` is a slug.
    """
    has_digit = any(char.isdigit() for char in segment)
    has_upper = any(char.isupper() for char in segment)
    has_lower = any(char.islower() for char in segment)
    if len(segment) >= URL_TOKEN_MIN_CHARS:
        return has_digit or (has_upper and has_lower)
    uppers = sum(char.isupper() for char in segment)
    if len(segment) >= URL_MIXED_CASE_MIN_CHARS and has_lower and uppers >= URL_MIXED_CASE_UPPERS:
        return True  # "cPQiruqLDebE": a generated token even without a digit
    return len(segment) >= URL_SHORT_CODE_MIN_CHARS and has_digit and has_upper and has_lower


# ---------------------------------------------------------------------------------------------
# Detectors: each yields candidate spans; overlaps are resolved afterwards.
# ---------------------------------------------------------------------------------------------


def _find_emails(text: str) -> Iterator[PiiSpan]:
    for match in _EMAIL_RE.finditer(text):
        yield PiiSpan(match.start(), match.end(), EMAIL)


def _find_urls(text: str) -> Iterator[PiiSpan]:
    for match in _URL_RE.finditer(text):
        url = match.group().rstrip(_URL_TRAILING_PUNCT)
        if url and _is_sensitive_url(url):
            yield PiiSpan(match.start(), match.start() + len(url), URL)


def _find_ibans(text: str) -> Iterator[PiiSpan]:
    for match in _IBAN_RE.finditer(text):
        end = _longest_valid_iban_end(text, match.start(), match.end())
        if end is not None:
            yield PiiSpan(match.start(), end, IBAN)


def _longest_valid_iban_end(text: str, start: int, end: int) -> int | None:
    """The greedy match may swallow a following word; try shorter cuts at char boundaries."""
    for cut in range(end, start + IBAN_MIN_CHARS - 1, -1):
        if cut < len(text) and text[cut].isalnum():
            continue
        if text[cut - 1] == " ":
            continue
        if iban_valid(text[start:cut].replace(" ", "")):
            return cut
    return None


def _find_accounts(text: str) -> Iterator[PiiSpan]:
    for match in _ACCOUNT_RE.finditer(text):
        value = match.group("value")
        if _digit_count(value) >= ACCOUNT_MIN_DIGITS:
            yield PiiSpan(match.start("value"), match.end("value"), ACCOUNT)
    for match in _IBAN_LABEL_RE.finditer(text):
        if not iban_valid(match.group("value").replace(" ", "")):
            yield PiiSpan(match.start("value"), match.end("value"), ACCOUNT)


def _find_cards(text: str) -> Iterator[PiiSpan]:
    for match in _DIGIT_GROUPS_RE.finditer(text):
        offset = match.start()
        groups = [
            (g.start() + offset, g.end() + offset) for g in _GROUP_SPLIT_RE.finditer(match[0])
        ]
        yield from _cards_in_groups(text, groups)


def _cards_in_groups(text: str, groups: list[tuple[int, int]]) -> Iterator[PiiSpan]:
    """Card numbers inside a run of digit groups (a card may sit next to other numbers).

    Candidate sub-runs are tried longest first, then leftmost; accepted ones never overlap.
    """
    taken = [False] * len(groups)
    for first, last in _group_ranges_longest_first(len(groups)):
        members = groups[first : last + 1]
        if any(taken[first : last + 1]):
            continue
        lengths = tuple(group_end - group_start for group_start, group_end in members)
        if not _card_grouping_plausible(lengths):
            continue
        digits = "".join(text[group_start:group_end] for group_start, group_end in members)
        if _is_card_number(digits):
            kind = CARD
        elif lengths in CARD_LIKE_GROUPINGS:
            kind = ID
        else:
            continue
        taken[first : last + 1] = [True] * len(members)
        yield PiiSpan(members[0][0], members[-1][1], kind)


def _group_ranges_longest_first(count: int) -> Iterator[tuple[int, int]]:
    """Inclusive (first, last) group index ranges, at most ``CARD_MAX_GROUPS`` wide."""
    for width in range(min(count, CARD_MAX_GROUPS), 0, -1):
        for first in range(count - width + 1):
            yield first, first + width - 1


def _card_grouping_plausible(lengths: tuple[int, ...]) -> bool:
    total = sum(lengths)
    if not CARD_MIN_DIGITS <= total <= CARD_MAX_DIGITS:
        return False
    if len(lengths) == 1:
        return True
    return all(CARD_GROUP_MIN_DIGITS <= n <= CARD_GROUP_MAX_DIGITS for n in lengths)


def _find_phones(text: str) -> Iterator[PiiSpan]:
    for pattern in _PHONE_PATTERNS:
        for match in pattern.finditer(text):
            span = _phone_span(match[0], match.start())
            if span is not None:
                yield span
    for match in _PHONE_LABELLED_RE.finditer(text):
        span = _phone_span(match["value"].rstrip(".-("), match.start("value"))
        if span is not None:
            yield span


def _phone_span(value: str, start: int) -> PiiSpan | None:
    """Validate the digit count; drop trailing groups a greedy match took from the next number."""
    while _digit_count(value) > PHONE_MAX_DIGITS:
        cut = max(value.rfind(sep) for sep in _PHONE_SEPARATORS)
        if cut <= 0:
            return None
        value = value[:cut].rstrip(_PHONE_SEPARATORS)
    minimum = PHONE_INTL_MIN_DIGITS if value.startswith("+") else PHONE_MIN_DIGITS
    if _digit_count(value) < minimum:
        return None
    return PiiSpan(start, start + len(value), PHONE)


def _digit_count(value: str) -> int:
    return sum(char.isdigit() for char in value)


def _find_ips(text: str) -> Iterator[PiiSpan]:
    for match in _IP_RE.finditer(text):
        octets = match.group().split(".")
        if any(int(octet) > IP_OCTET_MAX for octet in octets):
            continue
        if _VERSION_CONTEXT_RE.search(text[max(0, match.start() - _CONTEXT_CHARS) : match.start()]):
            continue
        yield PiiSpan(match.start(), match.end(), IP)


def _find_ipv6(text: str) -> Iterator[PiiSpan]:
    if "::" not in text and text.count(":") < 7:
        return
    for match in _IPV6_RE.finditer(text):
        try:
            ipaddress.IPv6Address(match.group())
        except ValueError:
            continue
        if any(char.isalnum() for char in match.group()):
            yield PiiSpan(match.start(), match.end(), IP)


def _find_ids(text: str, min_digit_run: int) -> Iterator[PiiSpan]:
    for match in _ID_TOKEN_RE.finditer(text):
        span = _id_token_span(text, match.start(), match.end(), min_digit_run)
        if span is not None:
            yield span
    for match in _HYPHENATED_RE.finditer(text):
        # "112-3456789-1234567", "CUST-00123456": one [ID] rather than "112-[ID]-[ID]".
        parts = _ID_TOKEN_RE.finditer(match[0])
        offset = match.start()
        if any(
            _id_token_span(text, p.start() + offset, p.end() + offset, min_digit_run) for p in parts
        ):
            yield PiiSpan(match.start(), match.end(), ID)
    for match in _NATIONAL_ID_RE.finditer(text):
        yield PiiSpan(match.start(), match.end(), ID)


def _id_token_span(text: str, start: int, end: int, min_digit_run: int) -> PiiSpan | None:
    """An [ID] span for one alphanumeric token, or None when it is an amount, date or code."""
    token = text[start:end]
    if _HEX_LITERAL_RE.fullmatch(token):
        return None
    glued = _GLUED_WORD_RE.match(token)
    if glued:  # "order113542617735902": keep the word, it is useful for keyword extraction
        token, start = token[glued.end() :], start + glued.end()
    if token.isdigit():
        if len(token) < min_digit_run or _is_compact_date(token):
            return None
        if _looks_like_money(text, start, end):
            return None
    elif _digit_count(token) < min_digit_run:
        return None
    return PiiSpan(start, end, ID)


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


_resolve_overlaps = resolve_overlaps  # kept for callers of the former private name


def _outside(span: PiiSpan, protected: list[tuple[int, int]]) -> bool:
    return not any(span.start < end and start < span.end for start, end in protected)


def find_pii(
    text: str, *, min_digit_run: int = DEFAULT_MIN_DIGIT_RUN, keep_handles: Collection[str] = ()
) -> list[PiiSpan]:
    """All non-overlapping spans to replace in ``text``, sorted by start: PII and export masks.

    ``keep_handles`` are @handles that stay (the brand's own). Identifier rules never touch a
    legal citation (``rca.text.context.protected_ranges``); e-mails and URLs are not
    identifier rules and win wherever they are.
    """
    if min_digit_run < 1:
        raise ValueError(f"min_digit_run must be >= 1, got {min_digit_run}")
    if not text or not _TRIGGER_RE.search(text):
        return []
    candidates: list[PiiSpan] = [
        *_find_ibans(text),
        *_find_accounts(text),
        *_find_cards(text),
        *_find_phones(text),
        *_find_ips(text),
        *_find_ipv6(text),
        *_find_ids(text, min_digit_run),
        *find_labelled_values(text),
        *find_dates_of_birth(text),
        *find_addresses(text),
        *find_names_in_context(text),
    ]
    protected = protected_ranges(text)
    if protected:
        candidates = [span for span in candidates if _outside(span, protected)]
    candidates += [
        *_find_emails(text),
        *_find_urls(text),
        *find_handles(text, keep_handles),
        *find_masks(text),
    ]
    return resolve_overlaps(candidates)


def redact(
    text: str, *, min_digit_run: int = DEFAULT_MIN_DIGIT_RUN, keep_handles: Collection[str] = ()
) -> str:
    """Replace every PII span by its typed placeholder (``[EMAIL]``) and normalise masks."""
    return splice(text, find_pii(text, min_digit_run=min_digit_run, keep_handles=keep_handles))


def redact_series(
    s: pd.Series, *, min_digit_run: int = DEFAULT_MIN_DIGIT_RUN, keep_handles: Collection[str] = ()
) -> pd.Series:
    """Redact a column of texts; missing values (NaN/None) and non-strings pass through."""
    return s.map(
        lambda value: (
            redact(value, min_digit_run=min_digit_run, keep_handles=keep_handles)
            if isinstance(value, str)
            else value
        )
    )
