"""Config text from users made raw mappings: the YAML file (at most 1 MB, no alias bombs, no duplicate keys) and
typed `--set` values."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from engine.errors import InputError
from engine.file_kinds import check_input, read_regular
from engine.safe_text import short

DEFAULT_CONFIG = "config.yaml"
MAX_CONFIG_BYTES = 1_000_000
MAX_EXPANDED_NODES = 10_000  # a full config has about 60 values; YAML aliases must not multiply that into millions
MERGE_TAG = "tag:yaml.org,2002:merge"  # `<<: *defaults` may be overridden key by key: not a duplicate
CONFIG_EXPECTED = "a YAML config file"


def default_config_file() -> str | None:
    """./config.yaml when there is anything by that name (a FIFO or a directory there is refused, not skipped)."""
    return DEFAULT_CONFIG if os.path.lexists(DEFAULT_CONFIG) else None


class DuplicateKeyError(yaml.YAMLError):
    """A mapping names one key twice: YAML would keep only the last value, silently."""

    def __init__(self, key: str, first_line: int, second_line: int) -> None:
        super().__init__(f"duplicate key '{key}' on lines {first_line} and {second_line}")
        self.key, self.first_line, self.second_line = key, first_line, second_line


class ConfigLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader that refuses a key given twice in one mapping (`<<` merges may still be overridden)."""

    def construct_document(self, node: yaml.Node) -> Any:
        """Check the composed document, before anything is built from it, then build it as SafeLoader does."""
        refuse_duplicate_keys(node)
        return super().construct_document(node)


# YAML 1.1 reads '1e-3' (no dot) as text; YAML 1.2 and every person read it as a number, and strict config fields
# take no text for a number.
ConfigLoader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
                                   list("-+0123456789"))


def refuse_duplicate_keys(root: yaml.Node) -> None:
    """DuplicateKeyError for the first mapping that repeats a scalar key; each node (alias targets too) is seen once."""
    stack, seen = [(root, "")], set()
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, path) for child in reversed(node.value))
        if not isinstance(node, yaml.MappingNode):
            continue
        lines: dict[tuple[str, str], int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != MERGE_TAG:
                name = f"{path}.{key.value}" if path else key.value
                line = key.start_mark.line + 1
                if (key.tag, key.value) in lines:
                    raise DuplicateKeyError(short(name), lines[key.tag, key.value], line)
                lines[key.tag, key.value] = line
                stack.append((value, name))
            else:
                stack.append((value, path))


def load_yaml(text: str) -> Any:
    """YAML text as data, through ConfigLoader (safe types only, no duplicate keys)."""
    return yaml.load(text, Loader=ConfigLoader)  # a SafeLoader: no Python tags


def check_expansion(value: Any, source: str) -> None:
    """Refuse YAML whose aliases expand beyond MAX_EXPANDED_NODES values (a 'billion laughs'), or refer to themselves."""
    sizes: dict[int, int] = {}

    def size(node: Any) -> int:
        if not isinstance(node, (dict, list)):
            return 1
        if id(node) in sizes:
            if sizes[id(node)] < 0:
                raise InputError(source, "a YAML alias refers to itself")
            return sizes[id(node)]
        sizes[id(node)] = -1
        children = node.values() if isinstance(node, dict) else node
        total = 1 + sum(size(child) for child in children)
        if total > MAX_EXPANDED_NODES:
            raise InputError(source, f"YAML expands to more than {MAX_EXPANDED_NODES:,} values (aliases?); not a config")
        sizes[id(node)] = total
        return total

    size(value)


def parse_value(text: str, source: str) -> Any:
    """A command-line value typed as YAML ('3' -> 3, '[A, B]' -> a list); text that is not YAML stays text."""
    try:
        value = load_yaml(text) if text.strip() else ""
    except DuplicateKeyError as error:
        raise InputError(source, f"{error} in {short(text)!r}") from None
    except yaml.YAMLError:
        value = text
    check_expansion(value, source)
    return value


def read_config_file(path: str | Path) -> Any:
    """Read a YAML config file (at most 1 MB) into raw data: a mapping when the file is a config."""
    if not str(path).strip():
        raise InputError("--config", "empty path; expected a YAML config file")
    path = Path(path)
    if check_input(path, CONFIG_EXPECTED):
        raise InputError(str(path), "cannot read (Is a directory)")
    try:
        data = read_regular(path, CONFIG_EXPECTED, MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise InputError(str(path), "file not found") from None
    except OSError as error:
        raise InputError(str(path), f"cannot read ({error.strerror or error})") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise InputError(str(path), f"larger than {MAX_CONFIG_BYTES // 1_000_000} MB; not a config file")
    try:
        raw = load_yaml(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(str(path), "not UTF-8 text; expected a YAML config") from None
    except DuplicateKeyError as error:
        raise InputError(str(path), f"{error} (YAML would keep only the last; remove one)") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        problem = short(str(getattr(error, "problem", None) or error).splitlines()[0])
        raise InputError(str(path), f"{where}invalid YAML ({problem})") from None
    except RecursionError:
        raise InputError(str(path), "YAML nested too deeply; not a config") from None
    check_expansion(raw, str(path))
    return raw or {}
