"""Config text from users made raw mappings: the YAML file (at most 1 MB, no alias bombs) and typed `--set` values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from engine.errors import InputError
from engine.safe_text import short

DEFAULT_CONFIG = "config.yaml"
MAX_CONFIG_BYTES = 1_000_000
MAX_EXPANDED_NODES = 10_000  # a full config has about 60 values; YAML aliases must not multiply that into millions


def default_config_file() -> str | None:
    """./config.yaml when it exists: the file a run reads when no --config is given."""
    return DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None


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
        value = yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError:
        value = text
    check_expansion(value, source)
    return value


def read_config_file(path: str | Path) -> Any:
    """Read a YAML config file (at most 1 MB) into raw data: a mapping when the file is a config."""
    path = Path(path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise InputError(str(path), "file not found") from None
    except OSError as error:
        raise InputError(str(path), f"cannot read ({error.strerror or error})") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise InputError(str(path), f"larger than {MAX_CONFIG_BYTES // 1_000_000} MB; not a config file")
    try:
        raw = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(str(path), "not UTF-8 text; expected a YAML config") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        problem = short(str(getattr(error, "problem", None) or error).splitlines()[0])
        raise InputError(str(path), f"{where}invalid YAML ({problem})") from None
    except RecursionError:
        raise InputError(str(path), "YAML nested too deeply; not a config") from None
    check_expansion(raw, str(path))
    return raw or {}
