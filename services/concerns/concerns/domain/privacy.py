"""What the public may see of a resident's words: contact details are masked."""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Seven or more digits, optionally separated: phone numbers in any common notation.
_PHONE = re.compile(r"\+?\d[\d\s().-]{5,}\d")


def mask_contact_details(text: str | None) -> str | None:
    """Replace e-mail addresses and phone numbers a resident typed into free text."""
    if not text:
        return text
    return _PHONE.sub("[phone removed]", _EMAIL.sub("[email removed]", text))
