"""Memory handling of batch jobs (clvxl.memory)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from clvxl._runtime import memory
from clvxl._runtime.memory import prompt_release, release_memory


@pytest.fixture
def arrow_pool(monkeypatch):
    """Arrow's default pool and the hand-back switch, put back after the test."""
    before = pa.default_memory_pool()
    monkeypatch.setitem(memory._HANDING_BACK, "on", memory._HANDING_BACK["on"])
    yield
    pa.set_memory_pool(before)


def test_only_a_batch_job_hands_memory_back(arrow_pool, monkeypatch):
    trims = []
    monkeypatch.setattr(memory, "_malloc_trim", lambda: trims.append)
    monkeypatch.setitem(memory._HANDING_BACK, "on", False)
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")  # the pool stays as it is
    release_memory()
    assert trims == []  # a long-lived process keeps its freed pages for the next call
    prompt_release()
    release_memory()
    assert trims == [0]


def test_prompt_release_uses_jemalloc_where_pyarrow_has_it(arrow_pool, monkeypatch):
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow has no jemalloc")
    prompt_release()
    assert pa.default_memory_pool().backend_name == "jemalloc"
    data = pa.array(range(1000))  # allocating and releasing still work
    release_memory()
    assert data.to_pylist()[-1] == 999


def test_prompt_release_keeps_a_pool_the_user_chose(arrow_pool, monkeypatch):
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    pa.set_memory_pool(pa.system_memory_pool())
    prompt_release()
    assert pa.default_memory_pool().backend_name == "system"
