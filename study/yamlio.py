"""YAML loading and pydantic error formatting shared by space and profile files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from study.errors import UserError

_FIXES = {
    "extra_forbidden": "remove it or check its spelling",
    "missing": "add it",
    "int_parsing": "use a whole number",
    "int_type": "use a whole number",
    "float_parsing": "use a number",
    "float_type": "use a number",
    "bool_parsing": "use true or false",
    "literal_error": "use one of the allowed values",
    "greater_than": "use a larger value",
    "greater_than_equal": "use a larger value",
    "less_than": "use a smaller value",
    "less_than_equal": "use a smaller value",
    "dict_type": "use a mapping (key: value)",
    "list_type": "use a list",
    "string_type": "use a string",
    "too_short": "add at least one entry",
}


def load_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping; any syntax error becomes a one-line UserError with the line number."""
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(err, "problem", None) or str(err)
        raise UserError(f"{where}: YAML syntax error ({problem}); fix the indentation or quoting") from None
    except OSError as err:
        raise UserError(f"{path}: cannot read ({err.strerror})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of keys at the top level; see search_spaces/aux_kl.yaml")
    return data


def format_validation_error(path: Path, err: ValidationError, prefix: str = "", schema: str = "study/space.py") -> str:
    """The first pydantic error as `file: key: message; fix`."""
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    if prefix:
        key = f"{prefix}.{key}"
    fix = _FIXES.get(first["type"], f"see the schema in {schema}")
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    return f"{path}: {key}: {msg}; {fix}"
