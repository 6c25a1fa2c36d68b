"""What a user installs: the wheel carries the built-in skills, and the package list in pyproject.toml is complete.

The wheel test builds the wheel from this checkout, installs it into a new, empty
virtualenv (its dependencies at the locked versions, from the package index or
pip's cache) and runs the installed ``assistant`` command from another folder, as
someone who ran ``pipx install`` would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.helpers import REPO

LOCK = REPO / "scripts" / "requirements.lock"
BUILTIN_SKILLS = {"apps", "clock", "help", "media", "nevermind", "timers", "volume"}


def test_every_package_of_the_source_tree_is_listed_in_pyproject():
    """The packages are listed by hand (the skills folder is mapped into the package): a new subpackage
    that is not listed would be missing from every wheel."""
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "assistant").rglob("__init__.py")}
    assert on_disk | {"assistant.skills"} == listed


@pytest.mark.slow
def test_an_installed_wheel_has_the_built_in_skills(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    source = tmp_path / "source"  # a copy: setuptools builds inside the source tree, which would leave build/ in the checkout
    source.mkdir()
    for part in ("pyproject.toml", "README.md", "assistant", "intents"):
        copy = shutil.copytree if (REPO / part).is_dir() else shutil.copy
        copy(REPO / part, source / part, **({"ignore": shutil.ignore_patterns("__pycache__")} if copy is shutil.copytree else {}))
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path / "dist"), str(source)], check=True, env=env, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("assistant-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c", str(LOCK), str(wheel)]
    subprocess.run(install, check=True, env=env, timeout=900)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assistant = str(venv / "bin" / "assistant")
    asked = subprocess.run([assistant, "ask", "what time is it", "--json"], capture_output=True, cwd=elsewhere, env=env, timeout=120)
    assert asked.returncode == 0, asked.stderr.decode()
    events = [json.loads(line) for line in asked.stdout.decode().splitlines()]
    assert [e["name"] for e in events if e["type"] == "intent"] == ["HassGetCurrentTime"]
    assert b"skills folder" not in asked.stderr

    listed = subprocess.run([assistant, "intents"], capture_output=True, cwd=elsewhere, env=env, timeout=120)
    assert listed.returncode == 0, listed.stderr.decode()
    assert "HassGetCurrentTime" in listed.stdout.decode() and "HassStartTimer" in listed.stdout.decode()
    installed_skills = {p.stem for p in (venv / "lib").glob("python3.*/site-packages/assistant/skills/*.py")}
    assert BUILTIN_SKILLS <= installed_skills
