"""YAML that users write (grid specs, protocols, the pipeline's params.yaml), read strictly: a key given twice in
one mapping is refused (PyYAML keeps the last one silently, so a second `mine:` under `methods:` dropped the
first), and any YAML error is one DDRError line naming the file."""
from __future__ import annotations

from typing import Any

import yaml

from ddr.errors import DDRError

_MERGE = "tag:yaml.org,2002:merge"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys. Keys brought in by a merge (`<<: *base`) may be overridden, as
    YAML means them to be; only keys written twice in the same mapping are refused."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, Any] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE:
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} is given twice, on lines "
                                                        f"{seen[key].start_mark.line + 1} and {key_node.start_mark.line + 1}")
            seen[key] = key_node
        except TypeError:  # an unhashable key: SafeLoader refuses it with its own message
            pass
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_yaml(text: str, source: str) -> Any:
    """Parse `text` (from `source`, named in errors); a duplicate key or invalid YAML is one DDRError line."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DDRError(f"{source}: invalid YAML ({problem}{line})") from None
