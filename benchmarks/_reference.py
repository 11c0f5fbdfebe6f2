"""Shared by the benchmarks: the lifetimes virtual environment and timed child processes."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
REFERENCE_VENV = HERE / ".venv-lifetimes"


def reference_python() -> Path:
    """Python of the lifetimes environment, created from requirements-lifetimes.txt once."""
    python = REFERENCE_VENV / "bin" / "python"
    if not python.exists():
        print("creating the lifetimes reference environment (once)...", file=sys.stderr)
        venv.create(REFERENCE_VENV, with_pip=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "-r",
                str(HERE / "requirements-lifetimes.txt"),
            ],
            check=True,
        )
    return python


_TIMER = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "print(json.dumps({'seconds': time.perf_counter() - t, 'rc': done.returncode,\n"
    "  'peak_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,\n"
    "  'stdout': done.stdout, 'stderr': done.stderr[-2000:]}))\n"
)


def timed(command: list[str]) -> dict:
    """Run ``command`` in a fresh process; wall time, peak RSS (MB) and its output."""
    out = subprocess.run(
        [sys.executable, "-c", _TIMER, *command], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout)
    if result["rc"] != 0:
        raise RuntimeError(f"{command[:3]} failed:\n{result['stderr']}")
    return result
