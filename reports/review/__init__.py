"""Physician rater sheets: blinded export with an overlap design, strict import, ratings ledger."""
