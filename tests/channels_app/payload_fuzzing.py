"""Hypothesis strategies for "no payload makes a webhook answer 500": arbitrary JSON built
from a platform's own keys, and real payloads with one part swapped or dropped."""

import copy
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st


def json_values_with(keys: Sequence[str], strings: Sequence[str]) -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**70), max_value=2**70)
        | st.floats(allow_nan=True, allow_infinity=False)
        | st.text(max_size=12)
        | st.sampled_from(["", "\x00", "\ud800", *strings])
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.sampled_from(list(keys)), children, max_size=5)
        ),
        max_leaves=14,
    )


def paths_in(value: Any, path: tuple = ()) -> list[tuple]:
    """Every place in a JSON value, as the keys and indexes that lead there; () is the root."""
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths_in(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths_in(child, (*path, index))
    return found


def mutated_payloads(
    load: Callable[[str], dict[str, Any]], names: Sequence[str], values: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """A real payload (`load(name)`) with one part swapped for arbitrary JSON, or dropped."""

    @st.composite
    def mutated(draw) -> Any:
        payload = copy.deepcopy(load(draw(st.sampled_from(list(names)))))
        path = draw(st.sampled_from(paths_in(payload)[1:]))
        parent = payload
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(values)
        return payload

    return mutated()
