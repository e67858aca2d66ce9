"""The number and text policy of an import, one cell at a time (stated in docs/data.md, "Importing your own data").

* Numbers: ASCII digits with '.' as the only decimal point and an optional exponent; no thousands
  separators, no ','. "1.234,56" and "1,234" are refused (their meaning depends on the locale).
* Text: no control characters (NUL and the rest of C0/C1; the source text may hold tabs and line
  breaks); names are NFKC-normalised with inner whitespace collapsed, may use any script, hold no
  invisible formatting characters (bidi marks, zero-width), and never fold onto a shipped sector.
* Periods: a quarter (or a month or year, refused later as not quarterly) in :data:`YEARS` that has
  begun: imported spend is history, and a quarter still to come (a typo like 2027 for 2025) would
  become the sector's last observed quarter.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence

import pandas as pd

from . import quarters
from .config import SECTORS, TOTAL, TOTAL_LABEL, valid_sector

#: Most spend one row may hold, USD: $10 trillion for one sector and workload in one quarter is over a
#: third of world GDP in a quarter, so a larger figure is a unit slip (cents, thousands) or a typo.
MAX_SPEND_USD = 1e13
#: Years a period may lie in (inclusive).
YEARS = (1990, 2100)
#: Longest sector or region name, and longest source text, in characters.
NAME_MAX, TEXT_MAX = 100, 500
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})(-\d{1,2})?$", re.ASCII)
_YEAR = re.compile(r"^\d{4}$", re.ASCII)
_ANY_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)", re.ASCII)
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$", re.ASCII)
_SPECIAL = {"nan": "spend is NaN", "inf": "spend is infinite", "infinity": "spend is infinite"}
#: Control characters refused in every field; the source text may hold tabs and line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def parse_period(raw: str) -> tuple[str, pd.Timestamp] | None:
    """Parse a period into (frequency letter Q/M/Y, start date); None when unparseable, out of
    :data:`YEARS` or not begun (it starts in a quarter after today's, UTC)."""
    parsed = _period_form(raw)
    return None if parsed is None or _not_begun(parsed[1]) else parsed


def _this_quarter() -> pd.Period:
    """The quarter today is in (UTC): the last one an import may hold."""
    return pd.Timestamp.now(tz="UTC").tz_localize(None).to_period("Q")


def _not_begun(start: pd.Timestamp) -> bool:
    return start.to_period("Q") > _this_quarter()


def _period_form(raw: str) -> tuple[str, pd.Timestamp] | None:
    """:func:`parse_period` without the check that the period has begun."""
    text = str(raw).strip()
    years = [int(y) for y in _ANY_YEAR.findall(text)]
    if len(years) != 1 or not YEARS[0] <= years[0] <= YEARS[1]:
        return None
    labelled = quarters.from_label(text)
    if labelled is not None:
        return "Q", labelled.start_time
    if _YEAR.match(text):
        return "Y", pd.Timestamp(int(text), 1, 1)
    if m := _MONTH.match(text):
        month, day = int(m[2]), int(m[3][1:]) if m[3] else 1
        try:
            start = pd.Timestamp(years[0], month, day)
        except ValueError:
            return None
        if m[3] and day == 1 and month in (1, 4, 7, 10):
            return "Q", start  # a quarter's first day, as our own exports write it
        return None if m[3] and day != 1 else ("M", start)
    return None


def period_problem(text: str) -> str:
    """Why a period did not parse: a year outside :data:`YEARS`, an unknown form, or not begun yet."""
    if _period_form(text) is not None:
        today = quarters.label(_this_quarter().start_time)
        return f"'{text}' has not begun (today is in {today}): import observed spend, not plans"
    years = [int(y) for y in _ANY_YEAR.findall(text)]
    if len(years) == 1 and not YEARS[0] <= years[0] <= YEARS[1]:
        return f"year {years[0]:04d} in '{text}' is outside {YEARS[0]}-{YEARS[1]}"
    return f"cannot parse '{text}' (use e.g. 2024Q3)"


def is_number(text: str) -> bool:
    """Whether ``text`` (blanks around it aside) is a number as the number policy writes one (docs/data.md)."""
    return _NUMBER.match(text.strip()) is not None


def spend_value(text: str) -> float | str:
    """The amount a cell holds, or why it is refused (see the number policy in docs/data.md)."""
    t = text.strip()
    if not t:
        return "spend is missing"
    if is_number(t):
        value = float(t)
        if math.isinf(value):
            return "spend is infinite"
        if value > MAX_SPEND_USD:
            return f"spend {value:g} is over $10 trillion in one quarter; is the unit US dollars?"
        return f"spend {value:g} is negative" if value < 0 else value
    if t.lstrip("+-").lower() in _SPECIAL:
        return _SPECIAL[t.lstrip("+-").lower()]
    if "," in t and any(c.isdigit() for c in t):
        return (
            f"'{t}' has a ',' (a thousands or decimal separator whose meaning depends on the locale); "
            "write the plain number with '.' as the decimal point, e.g. 1234.56"
        )
    return f"'{t}' is not a number (write digits with '.' as the decimal point, e.g. 1234.56)"


#: Separators other than the comma that spreadsheets write CSV with, by the word a message uses.
_SEPARATORS = {";": "semicolon", "\t": "tab", "|": "pipe"}


def separator_hint(column: str) -> str:
    """``''``, or a hint when a header cell holds another separator (a whole header read as one column)."""
    for sep, word in _SEPARATORS.items():
        if sep in column:
            return f" (the file looks {word}-separated; save it with commas)"
    return ""


def unknown_column(column: str, expected: Sequence[str]) -> str:
    """Why a header's column is refused: not one of ``expected`` (with the separator hint)."""
    return f"unknown column; expected {', '.join(expected)}{separator_hint(column)}"


def invisible(text: str) -> str | None:
    """The first invisible formatting character (bidi mark, zero-width) in ``text``, or None.

    Given as its code point and name, e.g. ``U+200F (RIGHT-TO-LEFT MARK)``.
    """
    for ch in text:
        if unicodedata.category(ch) == "Cf":
            return f"U+{ord(ch):04X} ({unicodedata.name(ch, 'format character')})"
    return None


def clean_name(raw: str) -> str:
    """A name as kept: NFKC-normalised, inner whitespace collapsed; raises ValueError if refused."""
    text = " ".join(unicodedata.normalize("NFKC", raw).split())
    if (bad := invisible(text)) is not None:
        raise ValueError(f"'{text}' contains an invisible formatting character {bad}; remove it")
    if len(text) > NAME_MAX:
        raise ValueError(f"name is {len(text)} characters long; the limit is {NAME_MAX}")
    return text


_SHIPPED = {**{k: k for k in SECTORS}, **{v.casefold(): k for k, v in SECTORS.items()}}
_SHIPPED.update({k.replace("_", " "): k for k in SECTORS})
#: Ids whose label would read as one the dashboard gives something else: the total, and every sector at once.
_TAKEN_LABELS = {"total_market": TOTAL_LABEL, "all_sectors": "All sectors"}


def sector_id(raw: str) -> str:
    """The sector id of a name: a shipped sector's id or label, else its own letters and digits (any script).

    Raises ValueError for an empty, reserved or invisible-character name, and for a name that would
    fold onto a shipped sector without being its id or label (``Retail!!`` is not ``retail``).
    """
    text = clean_name(raw)
    folded = text.casefold()
    if folded in _SHIPPED:
        return _SHIPPED[folded]
    slug = re.sub(r"[\W_]+", "_", folded).strip("_")
    if not slug:
        raise ValueError("sector is empty" if not text else f"sector '{text}' has no letters or digits")
    if slug in SECTORS:
        raise ValueError(
            f"sector '{text}' is not the shipped sector '{slug}' ({SECTORS[slug]}) but would be stored as it; "
            f"write '{slug}' or '{SECTORS[slug]}' to add to it, or a distinct name"
        )
    if slug == TOTAL:
        raise ValueError("'total' is computed as the sum of sectors; do not import it")
    if slug in _TAKEN_LABELS:
        raise ValueError(
            f"sector '{text}' would show as '{_TAKEN_LABELS[slug]}', which the dashboard uses for "
            f"{'the sum of sectors' if slug == 'total_market' else 'settings that apply to every sector'}; "
            "choose a distinct name"
        )
    if not valid_sector(slug):
        raise ValueError(f"'{slug}' is reserved for settings that apply to every sector; do not import it")
    return slug


def control_problem(column: str, value: str) -> str | None:
    """Why a cell is refused for a control character (the ``source`` column may hold tabs and line breaks)."""
    found = (_CONTROL_IN_TEXT if column == "source" else _CONTROL).search(value)
    if found is None:
        return None
    ch = found.group()
    name = "NUL" if ch == "\x00" else unicodedata.name(ch, "control character")
    return f"contains the control character U+{ord(ch):04X} ({name}); remove it"


def has_control(text: str) -> bool:
    """Whether ``text`` holds any control character at all (a quick test before the per-cell one)."""
    return _CONTROL.search(text) is not None


def sector_and_spelling(raw: str) -> tuple[str | ValueError, str]:
    """A name's sector id (or why it is refused) and its spelling folded for comparison."""
    spelling = " ".join(unicodedata.normalize("NFKC", raw).casefold().split())
    try:
        return sector_id(raw), spelling
    except ValueError as exc:
        return exc, spelling


def region_name(raw: str) -> str | ValueError:
    """A region as kept (``worldwide`` when empty), or why it is refused."""
    try:
        return clean_name(raw).lower() or "worldwide"
    except ValueError as exc:
        return exc
