from __future__ import annotations

import pytest

from tests.helpers import DATA

pytest_plugins = ["tests.pulse"]  # the private PulseAudio server: `pulse` / `pulse_server` fixtures


def pytest_sessionstart(session: pytest.Session) -> None:
    if not DATA.is_dir():
        raise pytest.UsageError(f"the shared test recordings are missing: expected {DATA} (../shared/data beside the checkout)")
