"""The output survives what happens to the process writing it (issue 7 and README's promise
"the output is written to a temporary file and renamed into place, so it is complete or not
there"): a SIGKILL at any moment, two runs writing the same file at once, and an output
folder nobody can write in — root included.

``clvxl.output.write_atomic`` writes into ``.{name}.XXXXXXXX.tmp`` (``tempfile.mkstemp`` in
the destination folder) and renames it onto ``{name}``. A SIGKILLed process cannot remove
that temporary file, so one may be left beside the output: hidden, ending in ``.tmp``, never
under the output's name. What must never happen is an output that is partial or corrupt.

Every run here is a fresh ``python -m clvxl.cli`` process (the ``clvxl`` script's entry
point), as a scheduled refresh would run it.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

SUFFIXES = [".parquet", ".csv", ".xlsx"]
KILLS = 5  # SIGKILLs at delays spread over one run, per output type
LOG_A = (30_000, 6_000, 1)  # rows, customers, seed: the run whose output must survive
LOG_B = (36_000, 7_200, 2)  # the run that is killed: more rows, more customers


def write_log(path: Path, rows: int, customers: int, seed: int) -> int:
    """A transaction log dated 2023-2024 in which every customer buys; returns customers."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.8, 1.0, customers)
    extra = rng.choice(customers, rows - customers, p=rate / rate.sum())
    customer = np.concatenate([np.arange(customers), extra])
    rng.shuffle(customer)
    spend = rng.gamma(4.0, 12.0, customers)
    amount = np.round(spend[customer] * rng.gamma(6.0, 1 / 6, rows), 2) + 0.01
    day = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 731, rows), unit="D")
    pd.DataFrame(
        {
            "customer_id": [f"C{c:05d}" for c in customer],
            "order_date": day.strftime("%Y-%m-%d"),
            "amount": amount,
        }
    ).to_csv(path, index=False)
    return customers


def command(source: Path, output: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "clvxl.cli", "recalc", str(source), "-o", str(output), *options]


def run(source: Path, output: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        command(source, output, "--quiet", *options), capture_output=True, text=True, timeout=300
    )


def read_customers(path: Path) -> pd.DataFrame:
    """customer_id and revenue of a complete output; raises if it is not one."""
    suffix = path.suffix
    if suffix == ".parquet":
        table = pd.read_parquet(path, columns=["customer_id", "revenue"])
    elif suffix == ".csv":
        table = pd.read_csv(path, usecols=["customer_id", "revenue"], dtype={"customer_id": str})
    else:
        book = openpyxl.load_workbook(path, read_only=True)
        try:
            rows = list(book["Customers"].iter_rows(values_only=True))
        finally:
            book.close()
        assert rows[0][0] == "Customer" and rows[0][7] == "Revenue", rows[0]
        table = pd.DataFrame(
            {"customer_id": [r[0] for r in rows[1:]], "revenue": [r[7] for r in rows[1:]]}
        )
    return table.astype({"customer_id": str, "revenue": float}).reset_index(drop=True)


def temp_pattern(output: Path) -> re.Pattern:
    """The names write_atomic gives its temporary files (8 random characters)."""
    return re.compile(rf"^\.{re.escape(output.name)}\.[a-z0-9_]{{8}}\.tmp$")


def assert_only_output_and_temps(folder: Path, output: Path) -> list[str]:
    """The folder holds the output and, at most, hidden .tmp files; returns the .tmp names."""
    names = sorted(p.name for p in folder.iterdir())
    temps = [n for n in names if temp_pattern(output).match(n)]
    assert [n for n in names if n not in temps] == [output.name], names
    # Nothing a consumer looking for the output's type could pick up instead of it.
    assert [p.name for p in folder.glob(f"*{output.suffix}")] == [output.name]
    return temps


def kill_after(cmd: list[str], delay: float) -> int | None:
    """Start cmd, SIGKILL it after delay seconds; its return code if it ended first, else None."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        code = proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        code = proc.wait(timeout=30)
        # It may have ended between the timeout and the kill: then it reports its own code.
        return None if code == -signal.SIGKILL else code
    return code


def _folder_state(folder: Path, output: Path) -> tuple:
    names = tuple(sorted(os.listdir(folder)))
    try:
        st = output.stat()
    except FileNotFoundError:
        return names, None
    return names, (st.st_ino, st.st_size, st.st_mtime_ns)


def kill_when_writing_starts(cmd: list[str], output: Path) -> int | None:
    """Start cmd and SIGKILL it at the first change in the output's folder.

    The first change is whatever a writer does first: a temporary file appearing, or the
    output itself being truncated or replaced. Returns the return code if the run ended
    without touching the folder (a failure), else None.
    """
    folder = output.parent
    before = _folder_state(folder, output)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if _folder_state(folder, output) != before:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            return None if proc.returncode == -signal.SIGKILL else proc.returncode
        if proc.poll() is not None:
            return proc.returncode
        time.sleep(0.001)
    proc.kill()
    proc.wait()
    pytest.fail("the run neither wrote its output nor ended within 120 s")


@pytest.mark.slow
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_sigkill_at_any_moment_leaves_the_previous_or_the_new_complete_output(tmp_path, suffix):
    logs, out, ref = tmp_path / "logs", tmp_path / "out", tmp_path / "ref"
    for folder in (logs, out, ref):
        folder.mkdir()
    n_a = write_log(logs / "a.csv", *LOG_A)
    n_b = write_log(logs / "b.csv", *LOG_B)
    output = out / f"customers{suffix}"

    done = run(logs / "a.csv", output)
    assert done.returncode == 0, done.stderr
    previous = output.read_bytes()
    table_a = read_customers(output)
    assert len(table_a) == n_a and table_a["customer_id"].is_unique

    start = time.perf_counter()
    done = run(logs / "b.csv", ref / output.name)
    duration = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    table_b = read_customers(ref / output.name)
    assert len(table_b) == n_b
    assert not table_b["customer_id"].isin(table_a["customer_id"]).all()  # B's output differs

    def check(code: int | None) -> bytes:
        """The output is A's exact bytes, or B's complete table (then the run had renamed it)."""
        data = output.read_bytes()
        if code is not None:  # the run ended before the kill: it must have succeeded
            assert code == 0
        if code is not None or data != previous:
            pd.testing.assert_frame_equal(read_customers(output), table_b)
        assert_only_output_and_temps(out, output)
        return data

    rng = np.random.default_rng(int.from_bytes(suffix.encode(), "little"))
    fractions = (np.arange(KILLS) + rng.random(KILLS)) / KILLS * 1.1  # spread over [0, 1.1)
    interrupted = 0
    for fraction in fractions:
        code = kill_after(command(logs / "b.csv", output, "--quiet"), fraction * duration)
        interrupted += code is None
        previous = check(code)
    assert interrupted >= KILLS - 2, "the kills did not interrupt the runs; the test proved nothing"

    # Now the kill lands the moment the run starts writing.
    code = kill_when_writing_starts(command(logs / "b.csv", output, "--quiet"), output)
    assert code is None, "the run ended without writing anything"
    temps = assert_only_output_and_temps(out, output)
    if temps:  # killed before the rename: the old output is untouched, byte for byte
        assert output.read_bytes() == previous
    else:  # the rename happened before the kill: the new output, complete
        pd.testing.assert_frame_equal(read_customers(output), table_b)
    if suffix == ".xlsx":  # a workbook takes long enough to write that the kill lands mid-write
        assert temps and output.read_bytes() == previous


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_two_runs_writing_one_output_at_once_leave_one_complete_output(tmp_path, suffix):
    logs, out = tmp_path / "logs", tmp_path / "out"
    logs.mkdir()
    out.mkdir()
    write_log(logs / "a.csv", *LOG_A)
    write_log(logs / "b.csv", *LOG_B)
    singles = {}
    for name in ("a", "b"):
        done = run(logs / f"{name}.csv", tmp_path / f"{name}{suffix}")
        assert done.returncode == 0, done.stderr
        singles[name] = _read_full(tmp_path / f"{name}{suffix}")
    assert len(singles["a"]) != len(singles["b"])

    output = out / f"customers{suffix}"
    procs = [
        subprocess.Popen(
            command(logs / f"{name}.csv", output, "--quiet"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    # Both renamed a complete file onto the output; the last rename wins, whole.
    assert sorted(p.name for p in out.iterdir()) == [output.name]  # no temporary file left
    final = _read_full(output)
    matches = []
    for name, single in singles.items():
        try:
            pd.testing.assert_frame_equal(final, single)
            matches.append(name)
        except AssertionError:
            pass
    assert len(matches) == 1, f"the output is neither run's complete table ({len(final)} rows)"


def _read_full(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype={"customer_id": str, "rfm": str})


# --- an output folder that cannot be written, even by root -------------------------------


@pytest.fixture
def small_log(tmp_path) -> Path:
    source = tmp_path / "log.csv"
    source.write_text(
        "customer_id,order_date,amount\na,2024-01-01,10\na,2024-03-01,5\nb,2024-02-01,7\n"
    )
    return source


def refused(source: Path, output: Path) -> str:
    """Run the CLI, check it refuses cleanly; returns the one-line message."""
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    done = run(source, output)
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before, "the input changed"
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("clvxl: cannot write "), done.stderr
    assert str(output) in lines[0]
    assert done.stdout == ""
    return lines[0]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_output_folder_that_is_a_regular_file(tmp_path, small_log, suffix):
    afile = tmp_path / "afile"
    afile.write_bytes(b"not a folder")
    output = afile / f"out{suffix}"
    message = refused(small_log, output)
    assert str(afile) in message
    assert afile.read_bytes() == b"not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "log.csv"]


def test_output_in_proc_is_refused_without_traceback(small_log):
    output = Path("/proc/self") / f"clvxl-test-{os.getpid()}.csv"
    refused(small_log, output)


def test_output_that_is_an_existing_folder_is_refused_without_traceback(tmp_path, small_log):
    output = tmp_path / "out.csv"
    output.mkdir()
    refused(small_log, output)
    assert output.is_dir() and not any(output.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv", "out.csv"]


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root writes in a chmod 0o500 folder; covered by the cases above"
)
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_output_folder_without_write_permission(tmp_path, small_log, suffix):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        message = refused(small_log, locked / f"out{suffix}")
        assert "no permission to write in" in message
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_a_signal_handled_just_after_the_temporary_file_is_made_leaves_nothing(
    tmp_path, monkeypatch
):
    # Blocking SIGTERM in the main thread does not stop DuckDB's or BLAS's threads from
    # taking it, so the handler may run at any bytecode: here, the moment the temporary
    # file exists, before write_atomic has returned its name (seen under load in CI).
    from clvxl import output

    made, real_open = [], os.open

    def open_then_stop(name, flags, mode=0o777):
        fd = real_open(name, flags, mode)
        made.append(Path(name))
        os.close(fd)
        raise output.Stopped(128 + signal.SIGTERM)

    monkeypatch.setattr(output.os, "open", open_then_stop)
    with pytest.raises(output.Stopped):
        output.write_atomic(tmp_path / "customers.csv", lambda tmp: tmp.write_text("x"))
    assert len(made) == 1 and made[0].name.startswith(".customers.csv.")
    assert list(tmp_path.iterdir()) == []
