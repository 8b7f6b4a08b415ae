"""Receipt links: the concern's id and its receipt token, carried in a URL fragment.

A fragment never reaches a server (not ours, not a proxy's log), so the token stays out of every
URL a server sees; the follow page's script, or the person pasting the link, posts it to us.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_ID = r"[A-Za-z0-9-]{1,64}"
_TOKEN = r"[A-Za-z0-9_-]{16,200}"
_FRAGMENT = re.compile(rf"(?:^|#)(?P<id>{_ID})\.(?P<token>{_TOKEN})\s*$")


class Receipt(NamedTuple):
    concern_id: str
    token: str

    @property
    def fragment(self) -> str:
        return f"{self.concern_id}.{self.token}"


def parse_receipt(text: str) -> Receipt | None:
    """The receipt in a pasted link (`…/follow#<id>.<token>`) or its fragment alone; None when
    the text holds none."""
    match = _FRAGMENT.search(text.strip())
    return Receipt(match["id"], match["token"]) if match else None
