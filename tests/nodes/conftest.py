"""Fixtures for the node library's tests."""
from __future__ import annotations

import pytest

from gradhopper.runtime.nodetype import NodeContext


@pytest.fixture
def build(tmp_path):
    """build(node_type, connected=(...), **params): what make returns for a fresh context.

    The context is the one the runtime would pass: parameters resolved (and validated) by the
    node type, run seed 1, the graph's folder at tmp_path.
    """
    def build(node_type, connected=(), **params):
        ctx = NodeContext(node_id="n", params=node_type.resolve_params(params), run_seed=1,
                          base_dir=tmp_path, connected=frozenset(connected))
        return node_type.make(ctx)
    return build
