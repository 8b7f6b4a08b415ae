"""`beat_shared.testing.page_replaced`: the old page is gone, however Chromium says so."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

from beat_shared.testing import NODE_GONE, page_replaced


class OldPage:
    """Stands for the old page's <html> element: `is_enabled` answers or raises as told."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    def is_enabled(self) -> bool:
        if self.error is not None:
            raise self.error
        return True


def test_a_page_still_there_is_not_replaced():
    assert page_replaced(OldPage())(None) is False


@pytest.mark.parametrize(
    "error",
    [
        StaleElementReferenceException("stale element reference"),
        WebDriverException(f'unknown error: unhandled inspector error: {{"message":"Node with given id {NODE_GONE}"}}'),
    ],
)
def test_a_stale_or_foreign_node_means_the_page_was_replaced(error):
    assert page_replaced(OldPage(error))(None) is True


def test_any_other_driver_error_is_not_taken_for_a_new_page():
    with pytest.raises(WebDriverException, match="chrome not reachable"):
        page_replaced(OldPage(WebDriverException("chrome not reachable")))(None)
