"""Resolve the dotted paths that SimpleJWT-style settings name ("package.module.attribute")."""

import importlib
from typing import Any


def import_string(path: str) -> Any:
    module_name, _, attribute = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ImportError(f"cannot import {path!r}: {exc}") from exc
