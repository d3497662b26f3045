"""Physician rater sheets: blinded export with an overlap design, strict import, ratings ledger."""

LEDGER_FILE = "ratings.jsonl"  # the ratings ledger's default name, beside the export it rates
