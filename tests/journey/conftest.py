"""The journey uses the browser and call tests' fixtures (Chromium, coturn)."""

from tests.browser.conftest import artifacts, browser  # noqa: F401
from tests.call.conftest import coturn, turn_server  # noqa: F401
