"""The one check of typed emails and names: nothing that shows as nothing (apps/core/validators.py)."""

import pytest
from django.core.exceptions import ValidationError

from apps.core.validators import invisible_characters, validate_visible_text


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("alice@example.com\u200b", ["U+200B"]),  # ZERO WIDTH SPACE (Cf)
        ("ali\u00adce@example.com", ["U+00AD"]),  # SOFT HYPHEN (Cf)
        ("alice\u200d@example.com", ["U+200D"]),  # ZERO WIDTH JOINER (Cf)
        ("\ufeffalice@example.com", ["U+FEFF"]),  # BYTE ORDER MARK (Cf)
        ("alice@exam\u2060ple.com", ["U+2060"]),  # WORD JOINER (Cf)
        ("Books\u202e", ["U+202E"]),  # RIGHT-TO-LEFT OVERRIDE (Cf)
        ("Books\x00", ["U+0000"]),  # NUL (Cc)
        ("Books\tand\nmore\x7f", ["U+0009", "U+000A", "U+007F"]),  # controls (Cc)
        ("line\u2028para\u2029", ["U+2028", "U+2029"]),  # Zl, Zp
        ("ada\u3164", ["U+3164"]),  # HANGUL FILLER: a letter (Lo), yet default-ignorable
        ("a\u034fb\ufe0f", ["U+034F", "U+FE0F"]),  # combining grapheme joiner, variation selector
        ("tag\U000e0041", ["U+E0041"]),  # TAG LATIN CAPITAL LETTER A
        ("a\u200bb\u200bc", ["U+200B"]),  # each named once
    ],
)
def test_invisible_and_control_characters_are_found_and_named(text, found):
    assert invisible_characters(text) == found
    with pytest.raises(ValidationError) as refused:
        validate_visible_text(text)
    assert all(code in refused.value.messages[0] for code in found)


@pytest.mark.parametrize(
    "text",
    [
        "Ada Lovelace",
        "Zoë Ångström",
        "李小龙",
        "Ибрагим",
        "محمد",
        "ada.king+tag@example.com",
        "Books & Music",
        "",
    ],
)
def test_visible_text_of_any_script_passes(text):
    assert invisible_characters(text) == []
    validate_visible_text(text)
