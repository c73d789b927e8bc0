"""``GOVWATCH_<SECTION>__<KEY>`` variables as the nested values they set.

The rules are pydantic-settings' environment source (2.16) as govwatch configured it:
names match case-insensitively; ``__`` descends into a section (and a platform's
section under ``sources``); a value for a key that holds a list, a table or a section is
read as JSON, and one that is not valid JSON stays text, so validation names the key;
a section given whole as JSON is merged with its keys given one by one. Written out here
(not imported) because that library cost more start-up than every settings model
together (issue 18); tests/test_config_environment.py checks it against pydantic-settings.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import is_dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

ENV_PREFIX = "GOVWATCH_"
_NESTED = "__"
#: What pydantic-settings reads as JSON (str and bytes are Sequences, but text).
_COMPLEX = (BaseModel, Mapping, Sequence, tuple, set, frozenset, deque)
_UNION_TYPE = type(int | None)


def environment_values(model: type[BaseModel], environ: Mapping[str, str]) -> dict[str, Any]:
    """The values ``environ`` gives ``model``'s fields, nested as the file's tables are."""
    env = {name.lower(): value for name, value in environ.items()}
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        key = (ENV_PREFIX + name).lower()
        value: Any = env.get(key)
        if _is_complex(field.annotation):
            nested = _explode(field, key + _NESTED, env)
            if value is None:
                value = nested or None
            else:
                value = _decode(value)
                if isinstance(value, dict):
                    value = deep_update(value, nested)
        if isinstance(value, dict):
            values[name] = _field_names(field.annotation, value)
        elif value is not None:
            values[name] = value
    return values


def deep_update(base: dict[str, Any], *updates: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with each update laid over it, tables merged key by key."""
    merged = base.copy()
    for update in updates:
        for key, value in update.items():
            if isinstance(merged.get(key), dict) and isinstance(value, dict):
                merged[key] = deep_update(merged[key], value)
            else:
                merged[key] = value
    return merged


def _explode(field: FieldInfo, prefix: str, env: Mapping[str, str]) -> dict[str, Any]:
    """The variables under ``prefix`` as a nested table (``a__b`` -> ``{"a": {"b": ...}}``)."""
    result: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith(prefix):
            continue
        *keys, last = name[len(prefix) :].split(_NESTED)
        node: Any = result
        target: Any = field
        for key in keys:
            target = _next_field(target, key)
            if isinstance(node, dict):
                node = node.setdefault(key, {})
        target = _next_field(target, last)
        decoded: Any = value
        if target is not None and value:
            annotation: Any = target.annotation if isinstance(target, FieldInfo) else target
            if _is_complex(annotation):
                decoded = _decode(value)
        if isinstance(node, dict):
            node[last] = decoded
    return result


def _next_field(field: Any, key: str) -> Any:
    """The field (or, inside a table, the value type) that ``key`` names under ``field``."""
    if field is None:
        return None
    annotation: Any = field.annotation if isinstance(field, FieldInfo) else field
    if _subclass(get_origin(annotation), dict):
        args = get_args(annotation)
        return args[-1] if args else None
    for member in get_args(annotation):
        found = _next_field(member, key)
        if found is not None:
            return found
    if not _subclass(annotation, BaseModel):
        return None
    fields: dict[str, FieldInfo] = annotation.model_fields
    for name, inner in fields.items():
        alias = inner.validation_alias if isinstance(inner.validation_alias, str) else None
        if key.lower() in (name.lower(), (alias or name).lower()):
            return inner
    return None


def _field_names(annotation: Any, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with each key spelt as the section's field (or alias) it names, any case."""
    model = _model(annotation)
    if model is None:
        return values
    named: dict[str, Any] = {}
    for key, value in values.items():
        for name, inner in model.model_fields.items():
            alias = inner.validation_alias if isinstance(inner.validation_alias, str) else None
            spelt = alias or name
            if spelt.lower() == key.lower():
                nested = isinstance(value, dict) and _model(inner.annotation) is not None
                named[spelt] = _field_names(inner.annotation, value) if nested else value
                break
        else:
            named[key] = value  # not a key of the section: validation says so
    return named


def _model(annotation: Any) -> type[BaseModel] | None:
    """The model class ``annotation`` is (through ``Annotated`` and ``X | None``), if any."""
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, _UNION_TYPE):
        members = [a for a in get_args(annotation) if a is not type(None)]
        annotation = members[0] if len(members) == 1 else annotation
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation if _subclass(annotation, BaseModel) else None


def _is_complex(annotation: Any) -> bool:
    """True when a value for ``annotation`` is read as JSON: a list, table or section."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_complex(get_args(annotation)[0])
    if origin is Union or origin is _UNION_TYPE:
        return any(_is_complex(arg) for arg in get_args(annotation))
    if _subclass(annotation, str | bytes):
        return False
    return any(_subclass(t, _COMPLEX) for t in (annotation, origin)) or is_dataclass(annotation)


def _subclass(value: Any, types: Any) -> bool:
    # issubclass refuses generic aliases such as list[int] (their origin is checked apart)
    try:
        return isinstance(value, type) and issubclass(value, types)
    except TypeError:
        return False


def _decode(value: str) -> Any:
    """JSON, or the text itself when it is not JSON (validation then names the key)."""
    try:
        return json.loads(value)
    except ValueError:
        return value
