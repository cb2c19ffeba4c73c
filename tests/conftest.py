from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# gRPC's fork handlers abort a child forked (subprocess with preexec_fn, tests/test_files.py)
# while the gRPC threads of an earlier health-check test still run; the suite forks often.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
RESOURCES = Path(__file__).resolve().parent / "resources"


@pytest.fixture(autouse=True, scope="session")
def _plan_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The plan cache (portplan.plan.cache) of the run in a folder of its own, never the
    user's: commands the tests run, in-process or not, write their entries there."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield


def shared_dir() -> Path:
    """../shared beside the repository (CI clones next to it), else /work/shared."""
    env = os.environ.get("PORTPLAN_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [p / "shared" for p in ROOT.parents] + [Path("/work/shared")]
    for candidate in candidates:
        if (candidate / "seeds").is_dir():
            return candidate
    raise AssertionError("shared/ (seeds, conformance) not found beside the repository")


@pytest.fixture
def shared() -> Path:
    return shared_dir()
