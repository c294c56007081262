"""Gradhopper: backpropagation laid out as a graph of nodes. `import gradhopper as gh`.

    g = gh.load("sample_graphs/wheat_seeds.json")   # or gh.Graph(name=..., epochs=..., seed=...)
    g.set("learning_rate.value", 0.1)
    run = g.run(epochs=20)
    run.value("test_accuracy.accuracy"), run.history[-1]

The API lives in gradhopper.runtime.api (see docs/api.md). This file is the top-level package
`gradhopper`: pyproject.toml maps it here, so that the repository's top-level folders stay
runtime/, nodes/, editor/ and the rest. Importing it loads numpy and the runtime, never Qt,
numba or Dask.
"""
from gradhopper.runtime.api import GradhopperWarning, Graph, Run, load, open_plan, sweep
from gradhopper.runtime.errors import (CycleError, FormatError, GradhopperError, GraphError,
                                       NodeError, NonFiniteError, ParamError, ShapeError)

__all__ = ["Graph", "Run", "load", "open_plan", "sweep", "GradhopperError", "GradhopperWarning",
           "FormatError", "GraphError", "ParamError", "CycleError", "ShapeError", "NodeError",
           "NonFiniteError"]
