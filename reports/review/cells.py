"""Making untrusted text safe for spreadsheet cells, and hashing exactly what was written.

Model outputs can start with `=` (a live formula in Excel when stored as one), carry
control characters that make a .xlsx unreadable, or exceed Excel's 32,767-character
cell limit (which openpyxl truncates silently on the way back). Every stimulus goes
through `clean_text` and `fit_cell` before it is written, and its hash is taken of the
text as written, so the import can tell an edited cell from a truncated one.
"""

from __future__ import annotations

import re

from harness.core.io import sha256_bytes

EXCEL_CELL_LIMIT = 32_767
# Characters XML 1.0 cannot hold (openpyxl raises IllegalCharacterError on them).
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# A CSV cell starting with one of these is interpreted by spreadsheet programs (OWASP).
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")


def clean_text(text: str) -> str:
    """Replace characters a spreadsheet cannot store with U+FFFD."""
    return ILLEGAL.sub("\ufffd", text)


def fit_cell(text: str, where: str, limit: int = EXCEL_CELL_LIMIT) -> tuple[str, bool]:
    """Text cut to `limit` characters, with a marker saying `where` the rest is; (text, cut?)."""
    if len(text) <= limit:
        return text, False
    marker = f"\n\n[... truncated: the full text ({len(text):,} characters) is in {where}]"
    return text[: limit - len(marker)] + marker, True


def csv_guard(text: str) -> str:
    """Prefix an apostrophe to text a spreadsheet would treat as a formula (reversible)."""
    return "'" + text if text.startswith(CSV_TRIGGERS) else text


def csv_unguard(text: str) -> str:
    """Undo `csv_guard`."""
    if text.startswith("'") and text[1:].startswith(CSV_TRIGGERS):
        return text[1:]
    return text


def text_hash(text: str) -> str:
    """SHA-256 of a cell's text (line endings normalised: spreadsheets rewrite them)."""
    return sha256_bytes(text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8"))
