"""Read a YAML configuration file: duplicate keys found, `${ENV}` expanded, no exceptions."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from servicekit.problems import Problem

_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(value: Any, problems: list[Problem], file: str, key: str = "") -> Any:
    """Replace `${VAR}` and `${VAR:-default}` in every string of a YAML tree."""
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in os.environ:
                return os.environ[name]
            if default is not None:
                return default
            problems.append(Problem(file, key, f"environment variable {name} is not set"))
            return ""

        return _ENV_RE.sub(sub, value)
    if isinstance(value, dict):
        return {
            k: expand_env(v, problems, file, f"{key}.{k}" if key else str(k))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [expand_env(v, problems, file, f"{key}[{i}]") for i, v in enumerate(value)]
    return value


def read_yaml(path: str | Path) -> tuple[Any, list[Problem]]:
    """Read a YAML file and expand environment variables; problems instead of exceptions."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        return None, [Problem(file, "", f"cannot read file: {exc.strerror or exc}")]
    problems: list[Problem] = []
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_duplicate_keys(node, "", file, problems, set())
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(file, "", f"invalid YAML: {where}{problem}")]
    finally:
        loader.dispose()
    try:
        data = expand_env(data if data is not None else {}, problems, file)
    except RecursionError:
        return None, [Problem(file, "", "invalid YAML: an alias refers to its own parent")]
    return data, problems


def _check_duplicate_keys(
    node: yaml.Node, key: str, file: str, problems: list[Problem], seen: set[int]
) -> None:
    """YAML keeps the last of two equal keys; a config file saying both is a mistake."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[tuple[str, str], int] = {}
        for key_node, value_node in node.value:
            name = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            sub = f"{key}.{name}" if key else name
            line = key_node.start_mark.line + 1
            ident = (key_node.tag, name)
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if ident in first:
                    problems.append(
                        Problem(
                            file,
                            sub,
                            f"line {line}: duplicate key (first set on line {first[ident]});"
                            " expected each key once",
                        )
                    )
                else:
                    first[ident] = line
            _check_duplicate_keys(value_node, sub, file, problems, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_duplicate_keys(item, f"{key}[{i}]", file, problems, seen)
