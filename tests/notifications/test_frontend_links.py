"""Every page of the front end that a message links to is in the README's list of pages a front
end must serve ("Development", `FRONTEND_URL`), read from the code itself."""

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# `f"{settings.FRONTEND_URL}/bookings/{booking.pk}"` or `settings.FRONTEND_URL + "/"`
LINK = re.compile(r"""FRONTEND_URL(?:\}|\s*\+\s*["'])(/[^"'?]*)""")


def _shape(path: str) -> str:
    """`/bookings/{booking.pk}` and `/bookings/{id}` alike: `/bookings/{}`."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def linked_paths() -> set[str]:
    paths, uses, read = set(), 0, 0
    for source in [*(REPO_ROOT / "apps").rglob("*.py"), *(REPO_ROOT / "templates").rglob("*.*")]:
        text = source.read_text(errors="ignore")
        links = LINK.findall(text)
        uses, read = uses + text.count("FRONTEND_URL"), read + len(links)
        paths |= {_shape(path) for path in links}
    assert uses == read, "FRONTEND_URL is used in a form this test does not read; extend LINK"
    return paths


def documented_paths() -> set[str]:
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("**`FRONTEND_URL`**", 1)[1].split("\n- **", 1)[0]
    pages = re.findall(r"^  \| `(/[^`]*)` \|", section, re.MULTILINE)
    return {_shape(page.split("?", 1)[0]) for page in pages}


def test_every_front_end_page_the_code_links_to_is_documented():
    linked = linked_paths()
    assert {"/verify-email", "/bookings/{}", "/"} <= linked, "the pattern missed links; it is out of date"
    assert linked - documented_paths() == set()


def test_the_documented_pages_are_all_linked_to():
    assert documented_paths() - linked_paths() == set()
