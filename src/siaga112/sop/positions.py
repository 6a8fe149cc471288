"""YAML read with its positions, for files checked by pydantic and reported `line N: message`.

The round-trip tree keeps each node's position; pydantic validates the plain values and names
each problem by its location (keys and indices), which leads back to a line of the file.
"""
from __future__ import annotations

from typing import Any, cast

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

Loc = tuple[str | int, ...]
KEY, VALUE, NODE = "key", "value", "node"


def load_tree(text: str) -> Any:
    """The round-trip tree of `text`; raises YAMLError (see `syntax_error`)."""
    return YAML(typ="rt").load(text)


def syntax_error(exc: YAMLError) -> tuple[int | None, str]:
    """Line and message of a YAML syntax error."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return (mark.line + 1 if mark is not None else None), f"YAML syntax error: {problem}"


def plain(node: Any) -> Any:
    """The round-trip tree as plain Python values, which pydantic's strict mode expects."""
    if isinstance(node, dict):
        return {plain(key): plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [plain(item) for item in node]
    if isinstance(node, ScalarBoolean):  # an anchored boolean; subclasses int, not bool
        return bool(node)
    for kind in (bool, int, float, str):  # ruamel's ScalarInt, ScalarFloat, ScalarString
        if isinstance(node, kind):
            return kind(node)
    return node


def line_of(tree: Any, loc: Loc, *, at: str = VALUE) -> int:
    """Line of the value (or its key, or the node itself) at `loc` in the tree.

    A location inside a scalar (a word of a comma-separated list) is on the scalar's line; one
    that is absent (a missing field) is on the line of the mapping that lacks it.
    """
    node: Any = tree
    parent: Any = None
    key: Any = None
    for part in loc:
        if not isinstance(node, (dict, list)):
            break
        try:
            node, parent, key = cast(Any, node)[part], node, part
        except (KeyError, IndexError, TypeError):
            return _node_line(node)
    if at == NODE or parent is None:
        return _node_line(node)
    if isinstance(parent, CommentedSeq):
        return _item_line(parent, key)
    return _key_line(parent, key) if at == KEY else _value_line(parent, key)


# ruamel positions are 0-based; lines in messages are 1-based.


def _node_line(node: Any) -> int:
    """First line of a mapping or sequence node (1 for scalars)."""
    lc = getattr(node, "lc", None)
    return lc.line + 1 if lc is not None and lc.line is not None else 1


def _key_line(mapping: CommentedMap, key: Any) -> int:
    try:
        return mapping.lc.key(key)[0] + 1
    except (KeyError, TypeError, AttributeError):
        return _node_line(mapping)


def _value_line(mapping: CommentedMap, key: Any) -> int:
    # An empty value (`lead:`) has no position of its own; ruamel reports the next key's.
    if mapping.get(key) is None:
        return _key_line(mapping, key)
    try:
        return mapping.lc.value(key)[0] + 1
    except (KeyError, TypeError, AttributeError):
        return _key_line(mapping, key)


def _item_line(seq: CommentedSeq, index: int) -> int:
    try:
        return seq.lc.item(index)[0] + 1
    except (KeyError, TypeError, AttributeError):
        return _node_line(seq)
