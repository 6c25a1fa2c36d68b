"""The ``assistant`` command's exit codes: documented in ``--help`` and the README, and used as documented."""

from __future__ import annotations

import re

from assistant.errors import EXIT_CODES
from tests.helpers import REPO, cli


def test_help_and_readme_list_every_exit_code():
    shown = cli("--help").stdout.decode()
    readme = (REPO / "README.md").read_text()
    for code in EXIT_CODES:
        assert re.search(rf"^\s+{code}\s+\S", shown, re.MULTILINE), f"--help does not explain exit code {code}"
        assert re.search(rf"^\| `{code}` \|", readme, re.MULTILINE), f"the README's exit code table lacks {code}"


def test_exit_codes_mean_what_they_say(tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really a wave file")
    assert cli("wake", str(broken)).returncode == 1  # unreadable input
    assert cli("ask", "what time is it", "--set", "wake.threshold=7").returncode == 2  # configuration
    assert cli("run", "--no-such-flag").returncode == 2  # usage
    assert cli("ask", "what time is it").returncode == 0
