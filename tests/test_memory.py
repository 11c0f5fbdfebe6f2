"""Memory handling of batch jobs (clvxl.memory)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from clvxl._runtime.memory import prompt_release, release_memory


@pytest.fixture
def arrow_pool():
    """Arrow's default pool, put back after the test."""
    before = pa.default_memory_pool()
    yield
    pa.set_memory_pool(before)


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
