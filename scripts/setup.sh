#!/usr/bin/env bash
# Set up the assistant on Debian/Ubuntu/Raspberry Pi OS (64-bit): system packages, then a
# virtualenv in .venv with the assistant installed. Safe to run again.
#   ./scripts/setup.sh          what `assistant run` needs
#   ./scripts/setup.sh --test   plus what the test suite needs (PulseAudio, Chromium, test models)
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[[ "${1:-}" == "--test" ]] && want_tests=1

packages=(python3 python3-venv python3-dev libportaudio2 libsndfile1 espeak-ng libespeak-ng1 pulseaudio-utils alsa-utils playerctl ffmpeg)
if (( want_tests )); then
  packages+=(pulseaudio libasound2-plugins chromium openssl)  # libasound2-plugins: amixer reaches the test PulseAudio
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  echo "setup: installing system packages: ${missing[*]}"
  sudo_cmd=()
  (( EUID == 0 )) || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# CPython 3.11: openWakeWord 0.6.0 depends on tflite-runtime, which has no wheels for 3.12+.
pick_python() {
  local candidate
  for candidate in ${PYTHON:-} python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
  # no 3.11 on this system (Ubuntu 24.04 has 3.12, 22.04 has 3.10): fetch a standalone build with uv
  echo "setup: no Python 3.11 found; fetching one with uv" >&2
  python3 -m venv .venv-bootstrap
  .venv-bootstrap/bin/python -m pip install -q uv
  .venv-bootstrap/bin/uv python install 3.11 >&2
  .venv-bootstrap/bin/uv python find 3.11
}

if [[ ! -x .venv/bin/python ]]; then
  python=$(pick_python)
  echo "setup: creating .venv with $("$python" --version)"
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
extras="all"
(( want_tests )) && extras="all,test"
echo "setup: installing the assistant with extras [$extras] into .venv, at the tested versions (scripts/requirements.lock)"
.venv/bin/python -m pip install -q -c scripts/requirements.lock -e ".[$extras]"
echo "setup: done. Run: .venv/bin/assistant --help"
