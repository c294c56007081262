"""A third-party node library, built and installed as its own package, next to ours.

The plug-in is a real distribution: pip builds it from its pyproject.toml and installs it into a
folder of its own, which the command line then sees on its path. Its node runs in a graph like
any catalogue node; a second plug-in whose entry point fails to import is skipped with one log
line, and the rest of the node types still work.
"""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

PLUGIN = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "gradhopper-demo-nodes"
        version = "1.0"

        [project.entry-points."gradhopper.nodes"]
        demo = "demo_nodes:node_types"
        broken = "demo_broken:node_types"

        [tool.setuptools]
        py-modules = ["demo_nodes", "demo_broken"]
    """,
    "demo_nodes.py": '''
        """One node type: scales its input by a parameter."""
        from gradhopper.runtime.nodetype import NodeType, Param, Port

        SCALE = NodeType(
            identifier="demo.scale",
            make=lambda ctx: (lambda x: x * ctx.params["factor"]),
            inputs=(Port("x"),),
            outputs=(Port("y"),),
            params=(Param("factor", "float", 2.0),),
            doc="y = factor * x",
        )

        def node_types():
            return [SCALE]
    ''',
    "demo_broken.py": '''
        import a_module_that_is_not_installed  # the plug-in is broken

        def node_types():
            return []
    ''',
}

GRAPH = {
    "format": "gradhopper.graph", "version": 1, "name": "plug-in", "run": {"epochs": 1},
    "nodes": [
        {"id": "W", "type": "param.tensor", "params": {"shape": [2], "init": "values",
                                                       "values": [1.5, -2.0]}},
        {"id": "scaled", "type": "demo.scale", "params": {"factor": 3.0}},
        {"id": "show", "type": "view.value"},
    ],
    "edges": [{"from": "W.value", "to": "scaled.x"}, {"from": "scaled.y", "to": "show.value"}],
}


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory):
    source = tmp_path_factory.mktemp("plugin-src")
    for name, text in PLUGIN.items():
        (source / name).write_text(textwrap.dedent(text).lstrip())
    target = tmp_path_factory.mktemp("plugin-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "--target", str(target), str(source)],
                   check=True, capture_output=True)
    return target


def gradhopper(args, plugin_path):
    env = dict(os.environ, PYTHONPATH=str(plugin_path))
    return subprocess.run([sys.executable, "-m", "gradhopper.runtime.cli.main", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_the_cli_runs_a_graph_with_the_plugins_node(plugin_path, tmp_path):
    graph = tmp_path / "plugin.json"
    graph.write_text(json.dumps(GRAPH))
    done = gradhopper(["run", str(graph), "--json"], plugin_path)
    assert done.returncode == 0, done.stderr
    outputs = json.loads(done.stdout)["outputs"]
    np.testing.assert_array_equal(outputs["show.value"], [4.5, -6.0])


def test_a_broken_plugin_is_skipped_with_one_log_line(plugin_path, tmp_path):
    graph = tmp_path / "plugin.json"
    graph.write_text(json.dumps(GRAPH))
    done = gradhopper(["check", str(graph)], plugin_path)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    assert "demo_broken:node_types" in lines[0] and "skipped" in lines[0]
    assert "a_module_that_is_not_installed" in lines[0]


def test_without_the_plugin_the_file_is_refused_in_one_line(tmp_path):
    graph = tmp_path / "plugin.json"
    graph.write_text(json.dumps(GRAPH))
    done = subprocess.run([sys.executable, "-m", "gradhopper.runtime.cli.main", "check", str(graph)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "node scaled" in done.stderr and "unknown node type 'demo.scale'" in done.stderr
