"""Context rules: personal data that only its neighbours give away, and text that must stay.

A five-digit number is an amount, a postcode or an account; "account number: 15306" says which.
These rules read the words around a value (a label, an ``@``, a street suffix, "my name is"),
so they catch values of any length without redacting every number. The other half is the
*protected* text: legal and regulatory citations ("15 U.S.C. 1691", "15usc1681c", "12 CFR
1026.13", "Section 110401 of the Heroes Act") look like ids but are what an SOP author must
quote, so no identifier rule may touch them. Pure regular expressions, compiled once.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator

from rca.text.spans import ACCOUNT, ADDRESS, DOB, HANDLE, ID, NAME, PiiSpan

# ---------------------------------------------------------------------------------------------
# Labelled values: "account number: 15306", "order #A12-77", "policy no. 88-1234".
# ---------------------------------------------------------------------------------------------

_ACCOUNT_LABELS = r"(?:bank\s+)?account|acct|a/c|acc(?=\s*(?:no|number|#))"
_ID_LABELS = (
    r"customer|member(?:ship)?|client|policy|loan|order|booking|reservation|confirmation"
    r"|claim|case|ticket|tracking|reference|ref|contract|application|transaction|dispute"
)
#: An explicit marker after the label ("number", "no.", "#", "id", ":") makes a short value safe
#: to call an identifier; without one ("order A12-77") the value must look like an id on its own.
_LABELLED_RE = re.compile(
    rf"\b(?P<label>{_ACCOUNT_LABELS}|{_ID_LABELS})\b"
    r"(?P<marker>\s*(?:number|num|no\.?|nr\.?|id|#|code)(?![a-z]))?"
    r"\s*(?:(?P<colon>[:#=])\s*|(?:is|was)\s+|-\s+)?#?"
    r"(?P<value>(?=[A-Za-z0-9/-]*\d)[A-Za-z0-9][A-Za-z0-9/-]*(?:[ -]\d{2,})*)",
    re.IGNORECASE,
)
LABELLED_MARKED_MIN_CHARS = 2
LABELLED_BARE_MIN_DIGITS = 4
_YEAR_RE = re.compile(r"(?:19|20)\d\d")
_AFTER_AMOUNT_RE = re.compile(
    r"\s?(?:%|percent|dollars?|usd|pounds?|euros?|days?|weeks?|months?|years?|hours?)\b",
    re.IGNORECASE,
)
_ACCOUNT_LABEL_RE = re.compile(_ACCOUNT_LABELS, re.IGNORECASE)


def find_labelled_values(text: str) -> Iterator[PiiSpan]:
    """Values after a label that names a personal record: accounts as [ACCOUNT], others [ID]."""
    for match in _LABELLED_RE.finditer(text):
        value = match["value"].rstrip("-/")
        digits = sum(char.isdigit() for char in value)
        marked = bool(match["marker"] or match["colon"])
        if _AFTER_AMOUNT_RE.match(text, match.start("value") + len(value)):
            continue
        if marked:
            if len(value) < LABELLED_MARKED_MIN_CHARS:
                continue
        elif digits < LABELLED_BARE_MIN_DIGITS or _YEAR_RE.fullmatch(value):
            continue
        kind = ACCOUNT if _ACCOUNT_LABEL_RE.fullmatch(match["label"]) else ID
        start = match.start("value")
        yield PiiSpan(start, start + len(value), kind)


# ---------------------------------------------------------------------------------------------
# @handles: personal social accounts, "@john_smith92", "@15913"; a brand's own handle stays.
# ---------------------------------------------------------------------------------------------

_HANDLE_RE = re.compile(r"(?<![\w.@/+-])@(?P<name>\w{1,30})(?![\w@]|\.[A-Za-z]{2})")


def find_handles(text: str, keep: Collection[str] = ()) -> Iterator[PiiSpan]:
    """``@name`` handles except those in ``keep`` (compared without ``@``, any case)."""
    if "@" not in text:
        return
    kept = {name.lstrip("@").lower() for name in keep}
    for match in _HANDLE_RE.finditer(text):
        if match["name"].lower() not in kept:
            yield PiiSpan(match.start(), match.end(), HANDLE)


# ---------------------------------------------------------------------------------------------
# Dates of birth: only a date labelled as one; dates of events stay.
# ---------------------------------------------------------------------------------------------

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATE_VALUE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{1,2}-\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
)
_DOB_RE = re.compile(
    r"\b(?:date\s+of\s+birth|d\.?o\.?b\.?|birth\s*date|birthday|born(?:\s+on)?)"
    rf"\s*(?:is\s+|was\s+|[:#-]\s*)?(?P<value>{_DATE_VALUE})",
    re.IGNORECASE,
)


def find_dates_of_birth(text: str) -> Iterator[PiiSpan]:
    for match in _DOB_RE.finditer(text):
        yield PiiSpan(match.start("value"), match.end("value"), DOB)


# ---------------------------------------------------------------------------------------------
# Names given as names: "my name is Kevin Drayne", "Full name: David Simons", a sign-off.
# ---------------------------------------------------------------------------------------------

_CAP_WORD = r"[A-ZÀ-Þ][a-zß-ÿ'’-]+"
_ANY_WORD = r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'’-]*"
#: "my name is" takes capitalised words only ("my name is not on the account" stays); a form
#: label ("Full name:", "Name -", "account holder:") takes words of any case up to punctuation.
_NAME_INTRO_RE = re.compile(
    rf"\b(?i:my\s+name\s+is|my\s+name's|i\s+am\s+called|this\s+is)\s+(?P<value>{_CAP_WORD}"
    rf"(?:[ \t]+{_CAP_WORD}){{0,2}})"
    rf"|\b(?i:(?:full\s+|customer(?:'s)?\s+|first\s+|last\s+|sur)?name|account\s+holder(?:\s+name)?"
    rf"|signed)[ \t]*[:-][ \t]*(?P<labelled>{_ANY_WORD}(?:[ \t]+{_ANY_WORD}){{0,2}})"
)
_SIGN_OFF = (
    r"(?:kind regards|best regards|warm regards|regards|many thanks|thanks|thank you|cheers"
    r"|best|sincerely|yours truly|yours sincerely|yours faithfully|br)"
)
#: A sign-off opening a sentence or line, then one to three words ending the text, the first
#: capitalised: "Regards, Sam Jones", "Thanks, Tan khai wah" (but not "I bought it at Best Buy").
_SIGN_OFF_NAME_RE = re.compile(
    rf"(?:^|[.!?\n])\s*(?i:{_SIGN_OFF})\b[,.!:;-]?[ \t]*\n?[ \t]*"
    rf"(?P<value>(?:{_CAP_WORD}|[A-Z]\.)(?:[ \t]+(?:{_ANY_WORD}|[A-Z]\.)){{0,2}})"
    r"[ \t]*[.!]?\s*$"
)
#: Words that sign for a team or end a sentence, not a person ("Thanks again", "Regards, Team").
NOT_NAMES = frozenset(
    (  # noqa: SIM905
        "team support customer customers service services again everyone all guys you so very"
        " in advance a lot much for the have nice day your help anyway bank and to me us it"
        " this is was not no yes please sir madam"
    ).split()
)


def find_names_in_context(text: str) -> Iterator[PiiSpan]:
    """Person names that the sentence itself introduces as names."""
    for match in _NAME_INTRO_RE.finditer(text):
        group = "value" if match["value"] else "labelled"
        length = _name_length(match[group])
        if length:
            yield PiiSpan(match.start(group), match.start(group) + length, NAME)
    match = _SIGN_OFF_NAME_RE.search(text)
    if match is not None and _name_length(match["value"]) == len(match["value"]):
        yield PiiSpan(match.start("value"), match.end("value"), NAME)


def _name_length(value: str) -> int:
    """Characters of ``value``'s leading words up to the first that cannot be part of a name."""
    end = 0
    for word in re.finditer(r"\S+", value):
        if word.group().strip(".").lower() in NOT_NAMES:
            break
        end = word.end()
    return end


# ---------------------------------------------------------------------------------------------
# Street addresses: number + capitalised street name + suffix, then town, state, ZIP/postcode.
# ---------------------------------------------------------------------------------------------

_STREET_SUFFIX = (
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|Place|Pl"
    r"|Terrace|Close|Crescent|Cres|Square|Sq|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Trail|Row"
    r"|Gardens|Grove|Mews|Walk|Hill|Park|Pike|Loop|Alley)"
)
_POSTCODE = r"(?:[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2}|\d{5}(?:-\d{4})?)"
_TOWN_TAIL = (
    r"(?:,?[ ]+(?:[A-Z][a-z]+[ ]?){1,3},?[ ]+(?:[A-Z]{2}\b(?:[ ]+\d{5}(?:-\d{4})?)?"
    rf"|{_POSTCODE}))?"
)
_ADDRESS_RE = re.compile(
    r"(?<![\w.,$£€-])(?:(?:Apt|Apartment|Unit|Suite|Flat)\.?\s*#?\w+,?\s+)?"
    r"\d{1,5}[A-Za-z]?(?:-\d{1,5})?,?"
    rf"(?:[ ]+(?:[NSEW]\.?|North|South|East|West|\d+(?:st|nd|rd|th)|[A-Z][a-z'’.-]+)){{1,4}}"
    rf"[ ]+{_STREET_SUFFIX}\b\.?"
    r"(?:,?[ ]+(?:Apt|Apartment|Unit|Suite|Ste|Flat|#)\.?[ ]*#?\w+)?"
    rf"{_TOWN_TAIL}"
    rf"|\b(?i:p\.?\s?o\.?\s*box)\s+\d+"
)
_STREET_END_RE = re.compile(rf"\b{_STREET_SUFFIX}\b\.?[ \t]*,?[ \t]*$")


def ends_with_street(text: str, position: int) -> bool:
    """True when a street suffix ("Road", "St.") ends right before ``position`` (a town follows)."""
    return _STREET_END_RE.search(text, max(0, position - 16), position) is not None


#: A postcode alone is an address too: "SW1A 1AA", "EN1 3PB" (UK); a ZIP needs its state.
_POSTCODE_RE = re.compile(r"(?<![\w-])[A-Z]{1,2}\d[A-Z\d]?[ ]\d[A-Z]{2}(?![\w-])")


def find_addresses(text: str) -> Iterator[PiiSpan]:
    for pattern in (_ADDRESS_RE, _POSTCODE_RE):
        for match in pattern.finditer(text):
            yield PiiSpan(match.start(), match.end(), ADDRESS)


# ---------------------------------------------------------------------------------------------
# Protected text: citations of statutes and regulations are never identifiers.
# ---------------------------------------------------------------------------------------------

_SUBSECTIONS = r"(?:\s*\(\s*[a-z0-9]{1,4}\s*\))*"
_CITATION_RES: tuple[re.Pattern[str], ...] = (
    # 15 U.S.C. 1691, 15 USC 1681b(a), 15usc1681c, 15USC1666B, 15 U.S. Code 1692g, U.S.C 1681n
    re.compile(
        r"(?:\b\d{1,2}\s*)?\bU\.?\s?S\.?\s?(?:C\b\.?|Code\b)\s*(?:§+\s*|sec(?:tion)?\.?\s*)?"
        rf"\d+[A-Za-z]{{0,2}}(?:-\d+[a-z]?)?{_SUBSECTIONS}"
        rf"|\b\d{{1,2}}usc\d+[a-z]{{0,2}}\b",
        re.IGNORECASE,
    ),
    # 12 CFR 1026.13, 12 C.F.R. § 1002.9, 12 cfr part 1024
    re.compile(
        r"\b\d{1,2}\s*C\.?\s?F\.?\s?R\.?\s*(?:part\s*|§+\s*)?\d+(?:\.\d+)*[a-z]?"
        rf"{_SUBSECTIONS}|\b\d{{1,2}}cfr\d+(?:\.\d+)*\b",
        re.IGNORECASE,
    ),
    # Section 110401 of the Heroes Act, Sec. 623(a)(7), § 1681s-2
    re.compile(
        rf"(?:\bsections?|\bsec\.|§+)\s*\d+[A-Za-z]{{0,2}}(?:[.-]\d+[a-z]?)*{_SUBSECTIONS}",
        re.IGNORECASE,
    ),
    # Pub. L. No. 116-136, Public Law 111-203
    re.compile(r"\bPub(?:lic|\.)?\s*L(?:aw|\.)?\s*(?:No\.?\s*)?\d+-\d+", re.IGNORECASE),
)


def protected_ranges(text: str) -> list[tuple[int, int]]:
    """Character ranges of legal and regulatory citations, which identifier rules must skip."""
    return [(m.start(), m.end()) for pattern in _CITATION_RES for m in pattern.finditer(text)]
