"""Gradhopper's node library: small numpy functions declared with typed ports and parameters.

`node_types` is the library's entry point (`gradhopper.nodes` in pyproject.toml); the runtime
finds it there, as it would any plug-in, and never imports this package itself.
"""
from __future__ import annotations

from gradhopper.runtime.nodetype import NodeType

from . import activations, batches, dataset, debugging, layers, learning_views, loss, metrics
from . import optim, prep, split, tensors, views

MODULES = (dataset, prep, split, batches, tensors, layers, activations, loss, optim, metrics,
           views, learning_views, debugging)


def node_types() -> list[NodeType]:
    """Every node type of the library, in the order a palette lists them."""
    return [nt for module in MODULES for nt in module.NODE_TYPES]
