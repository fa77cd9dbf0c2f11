"""Fixtures of the study tests that need more than one Ray node."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def cluster() -> Iterator:
    """A Ray cluster on loopback (`ray.cluster_utils.Cluster`): a head with 1 CPU; tests add nodes."""
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        yield c
    finally:
        c.shutdown()
