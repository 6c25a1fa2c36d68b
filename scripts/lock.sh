#!/usr/bin/env bash
# Refresh scripts/requirements.lock, the exact versions setup.sh and CI install: take the newest releases
# pyproject.toml allows, and keep them only if they pass what the current lock passes.
#
#   ./scripts/lock.sh              new versions in .venv-lock; the suite, then coffee-dev acceptance
#                                  (clean and 6 dB, old lock vs new, same run) must hold; then the lock is written
#   ./scripts/lock.sh --no-bench   skip the acceptance comparison (only when the recognizer stack did not change)
#
# Users of `pip install assistant` still get the ranges in pyproject.toml; the lock is what we tested.
set -euo pipefail
cd "$(dirname "$0")/.."

bench=1
[[ "${1:-}" == "--no-bench" ]] && bench=0
[[ -x .venv/bin/python ]] || { echo "lock: run ./scripts/setup.sh --test first (the old lock's environment is the baseline)" >&2; exit 2; }

rm -rf .venv-lock
.venv/bin/python -m venv .venv-lock
.venv-lock/bin/python -m pip install -q --upgrade pip
echo "lock: installing the newest allowed releases into .venv-lock"
.venv-lock/bin/python -m pip install -q -e ".[all,test]"
candidate=$(mktemp)
{
  echo "# The exact versions the test suite and the accuracy benchmark passed on (pip constraints)."
  echo "# Installed by scripts/setup.sh and CI; refreshed by scripts/lock.sh ($(date -u +%Y-%m-%d), Python $(.venv-lock/bin/python -c 'import platform; print(platform.python_version())'))."
  .venv-lock/bin/python -m pip freeze --exclude-editable --exclude assistant | LC_ALL=C sort -f
} > "$candidate"
echo "lock: what changes:"
diff <(grep -v '^#' scripts/requirements.lock) <(grep -v '^#' "$candidate") || true

echo "lock: every compiled package has a wheel for a 64-bit Raspberry Pi (aarch64, CPython 3.11, glibc 2.36)"
compiled=$(mktemp)
.venv-lock/bin/python - "$candidate" > "$compiled" <<'EOF'
import importlib.metadata, sys
pure = {d.metadata["Name"].lower() for d in importlib.metadata.distributions() if "Root-Is-Purelib: true" in (d.read_text("WHEEL") or "")}
print("\n".join(line.strip() for line in open(sys.argv[1]) if line[0] != "#" and line.split("==")[0].lower() not in pure))
EOF
platforms=(--platform linux_aarch64)
for glibc in $(seq 17 36); do platforms+=(--platform "manylinux_2_${glibc}_aarch64"); done
.venv-lock/bin/python -m pip install -q --dry-run --no-deps --only-binary=:all: "${platforms[@]}" --python-version 3.11 \
  --implementation cp --target "$(mktemp -d)" -r "$compiled"

echo "lock: the test suite on the new versions"
.venv-lock/bin/python -m pytest -q

if (( bench )); then
  echo "lock: coffee-dev acceptance, clean and 6 dB: current lock, then the new versions"
  for env in .venv .venv-lock; do
    ASSISTANT_BENCH_RESULTS="$env/lock-bench" "$env/bin/python" bench/bench_accuracy.py --snr 6 --no-wake >/dev/null
  done
  .venv/bin/python - <<'EOF'
import json, sys
old, new = (json.load(open(f"{env}/lock-bench/accuracy.json"))["conditions"] for env in (".venv", ".venv-lock"))
rows = [(o["condition"], o["accepted"], n["accepted"], o["clips"]) for o, n in zip(old, new)]
for condition, before, after, clips in rows:
    print(f"lock: {condition:>6}: {before}/{clips} accepted on the current lock, {after}/{clips} on the new versions")
if any(after < before for _, before, after, _ in rows):
    sys.exit("lock: acceptance dropped on the new versions: the lock is left as it was")
EOF
fi

mv "$candidate" scripts/requirements.lock
echo "lock: wrote scripts/requirements.lock; commit it with the results above. Switch to it with ./scripts/setup.sh --test"
