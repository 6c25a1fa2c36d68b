from __future__ import annotations

import pytest

from tests.helpers import DATA


def pytest_sessionstart(session: pytest.Session) -> None:
    if not DATA.is_dir():
        raise pytest.UsageError(f"the shared test recordings are missing: expected {DATA} (../shared/data beside the checkout)")
