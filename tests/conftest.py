"""Shared fixtures: the dev data folder (skipped when ../shared is absent) and example objects."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "partnet_dev"
DEV_URDFS = sorted(SHARED_DATA.glob("*/object/gt.urdf")) if SHARED_DATA.is_dir() else []

needs_shared = pytest.mark.skipif(
    not DEV_URDFS, reason="needs ../shared/data/partnet_dev (absent in a user's clone)"
)


@pytest.fixture
def example_cabinet():
    from spark_blender.examples import example_cabinet

    return example_cabinet()


@pytest.fixture(scope="session")
def example_urdf(tmp_path_factory) -> Path:
    """The example cabinet written once as a URDF output folder (read-only for tests)."""
    from spark_blender.core.urdf import write_urdf
    from spark_blender.examples import example_cabinet

    return write_urdf(example_cabinet(), tmp_path_factory.mktemp("example") / "cabinet")
