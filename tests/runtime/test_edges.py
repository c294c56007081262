"""The graph's edge list keeps its index exact through every change, and a removal does not
walk the whole list in Python."""
from __future__ import annotations

import random

import pytest

from gradhopper.runtime.graph import Edge, EdgeList, Endpoint


def fresh(edges: EdgeList) -> EdgeList:
    return EdgeList(list(edges))


def same_index(edges: EdgeList) -> None:
    want = fresh(edges)
    assert edges.into == want.into and edges.out == want.out
    assert all(edges.into[d] is next(e for e in edges if e.dst == d) for d in edges.into)


def edge(a: str, b: str, port: str = "x") -> Edge:
    return Edge(Endpoint(a, "out"), Endpoint(b, port))


@pytest.mark.parametrize("seed", range(5))
def test_appends_and_removes_in_any_order_keep_the_index_a_rebuild_would_give(seed):
    """Edges from few nodes into few inputs, so that some inputs get two edges (a broken
    file's, which the editor shows and lets a person fix) and some edges are equal."""
    rng = random.Random(seed)
    edges = EdgeList()
    for _ in range(400):
        if edges and rng.random() < 0.45:
            edges.remove(rng.choice(list(edges)))
        else:
            edges.append(edge(rng.choice("abcd"), rng.choice("efg"), rng.choice("xy")))
        same_index(edges)


def test_a_removal_walks_no_edges_in_python(monkeypatch):
    edges = EdgeList(edge(f"n{i}", f"n{i + 1}") for i in range(2000))
    walks = []
    original = EdgeList.__iter__
    monkeypatch.setattr(EdgeList, "__iter__", lambda self: walks.append(1) or original(self))
    for e in list(edges)[::2]:
        edges.remove(e)
    assert len(walks) == 1 and len(edges) == 1000  # the one walk is list(edges) above
    monkeypatch.undo()
    same_index(edges)


def test_the_other_edges_into_a_shared_input_take_its_place():
    first, second = edge("a", "c"), edge("b", "c")
    edges = EdgeList([first, second])
    assert edges.into[Endpoint("c", "x")] is first
    edges.remove(first)
    assert edges.into[Endpoint("c", "x")] is second and edges.out == {"b": [second]}
    edges.remove(second)
    assert edges.into == {} and edges.out == {}
