"""Canonical forms of identifiers that people type in many spellings."""

import unicodedata


def canonical_email(address: str) -> str:
    """The one form an email address is stored, compared and counted in.

    NFKC folds compatibility characters onto their plain letters (the Kelvin sign K onto K,
    fullwidth letters onto ASCII), then the address is lower-cased, by Python, here, once.
    Lower-casing in the database instead would disagree with Python on some letters
    (PostgreSQL lower-cases İ to i, Python to i + a combining dot), and a lookup and the unique
    constraint that disagree let one address act as two accounts. So the stored column already
    holds this form and both the constraint and every lookup compare it exactly.
    """
    folded = unicodedata.normalize("NFKC", address.strip()).lower()
    # Lower-casing can produce a sequence NFKC would compose differently; settle on a fixed point.
    return unicodedata.normalize("NFKC", folded).lower()
