"""Text people type that others will read: no characters that show as nothing.

`alice@example.com` followed by a zero-width space is another string to the database, and so
another account, yet it displays as alice, and mail servers that map the domain the IDNA way
(UTS #46 drops such characters) deliver its mail to the real alice. The same trick makes two
categories or roles that look like one. So wherever people type an email address or a name, these
are refused, with a message that names them (they cannot be seen):

- control characters (Unicode category Cc: tab, newline, NUL, ...), format characters (Cf: the
  zero-width space and joiners, the soft hyphen, the byte order mark, the bidirectional
  overrides), line and paragraph separators (Zl, Zp), and lone surrogates (Cs, which no database
  column can store);
- every other default-ignorable code point (DerivedCoreProperties.txt): Hangul fillers, variation
  selectors, the combining grapheme joiner, which render as nothing too although their category
  is a letter or a mark. Python's unicodedata does not expose that property, hence the table.

Refusing beats removing them silently: the account would then hold an address its owner never
typed. An ordinary space is fine, and so is any visible letter of any script.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

# Default_Ignorable_Code_Point, Unicode 15.1, as inclusive ranges.
DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def _invisible(character: str) -> bool:
    if unicodedata.category(character) in REFUSED_CATEGORIES:
        return True
    code_point = ord(character)
    return any(low <= code_point <= high for low, high in DEFAULT_IGNORABLE)


def invisible_characters(value: str) -> list[str]:
    """The characters of `value` that are refused, each once in order of appearance, written as
    `U+200B` (printed as themselves they would show nothing)."""
    return list(dict.fromkeys(f"U+{ord(c):04X}" for c in value if _invisible(c)))


@deconstructible
class VisibleTextValidator:
    """Refuses text with control, format or other invisible characters (see the module)."""

    message = _("Remove the invisible or control characters from this value: %(characters)s.")
    code = "invisible_characters"

    def __call__(self, value) -> None:
        if not isinstance(value, str):
            return
        found = invisible_characters(value)
        if found:
            raise ValidationError(self.message, code=self.code, params={"characters": ", ".join(found)})

    def __eq__(self, other) -> bool:
        return isinstance(other, VisibleTextValidator)

    def __hash__(self) -> int:
        return hash(VisibleTextValidator)


validate_visible_text = VisibleTextValidator()
