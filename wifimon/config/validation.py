"""Validate raw data against a schema model; pydantic errors become issues.

Messages are rewritten for operators (``must be between 1 and 65535, got
70000``, ``unknown key 'comunity'; did you mean 'community'?``). The input is
echoed only when it cannot be a secret: never under a secret key and never
for a value that came from an environment variable.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from wifimon.config.errors import ConfigIssue, list_choices, suggest
from wifimon.config.location import KeyPath, Origin

M = TypeVar("M", bound=BaseModel)

SECRET_KEYS = frozenset({"community", "auth_password", "priv_password", "token"})
_MAX_ECHO = 40
_MESSAGES = {
    "missing": "is required",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "dict_type": "must be a mapping of keys to values",
    "list_type": "must be a list",
    "string_type": "must be a string",
    "string_too_short": "must not be empty",
    "string_pattern_mismatch": "must be an http:// or https:// URL",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_type": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
}
# Follow-ups of another error (a default computed from an invalid field).
_CONSEQUENTIAL = frozenset({"default_factory_not_called"})
_NO_ECHO = frozenset({"missing", "extra_forbidden"})


def validate(
    model_type: type[M], data: object, origin: Origin, unsafe_paths: frozenset[KeyPath]
) -> tuple[M | None, list[ConfigIssue]]:
    """The model and one issue per problem found.

    The model is ``None`` when a value is wrong. When the only problems are
    unknown keys, it is the model built without them: it must not be used
    (there are issues), but cross-entry checks can still look at it, so a
    typo does not hide the entry's other problems until the next run.
    """
    try:
        return model_type.model_validate(data), []
    except ValidationError as exc:
        errors = [e for e in exc.errors(include_url=False) if e["type"] not in _CONSEQUENTIAL]
    issues = [_to_issue(error, model_type, origin, unsafe_paths) for error in errors]
    unknown = [tuple(error["loc"]) for error in errors if error["type"] == "extra_forbidden"]
    if len(unknown) < len(errors):
        return None, issues
    try:
        return model_type.model_validate(_without(data, unknown)), issues
    except ValidationError:
        return None, issues


def _without(data: object, paths: list[KeyPath]) -> object:
    """A copy of ``data`` without the mapping keys at ``paths``."""
    if not isinstance(data, dict):
        return data
    drop = {path[0] for path in paths if len(path) == 1}
    return {
        key: _without(value, [path[1:] for path in paths if len(path) > 1 and path[0] == key])
        for key, value in data.items()
        if key not in drop
    }


def _to_issue(
    error: ErrorDetails, model_type: type[BaseModel], origin: Origin, unsafe: frozenset[KeyPath]
) -> ConfigIssue:
    loc: KeyPath = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        message = _unknown_key_message(model_type, loc)
    else:
        message = _describe(error)
        if error["type"] not in _NO_ECHO and _may_echo(origin.prefix + loc, unsafe):
            message += _echo(error["input"])
    return origin.issue(message, *loc)


def _describe(error: ErrorDetails) -> str:
    known = _MESSAGES.get(error["type"])
    if known:
        return known
    message = error["msg"]
    for prefix, replacement in (("Value error, ", ""), ("Input should be", "must be")):
        if message.startswith(prefix):
            message = replacement + message.removeprefix(prefix)
    return message[:1].lower() + message[1:]


def _may_echo(path: KeyPath, unsafe: frozenset[KeyPath]) -> bool:
    # A credential written as a bare string ("city: public") is likely a
    # community string, so values directly under a credential name stay hidden.
    bare_credential = path[:1] == ("credentials",) and len(path) < 3
    return path not in unsafe and not bare_credential and not SECRET_KEYS.intersection(path)


def _echo(value: object) -> str:
    if isinstance(value, bool | int | float):
        return f", got {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= _MAX_ECHO else value[: _MAX_ECHO - 3] + "..."
        return f", got {shown!r}"
    if value is None:
        return ", got nothing"
    if isinstance(value, list):
        return ", got a list"
    if isinstance(value, dict):
        return ", got a mapping"
    return ""


def _unknown_key_message(model_type: type[BaseModel], loc: KeyPath) -> str:
    key = str(loc[-1])
    parent = model_at(model_type, loc[:-1])
    if parent is None:
        return f"unknown key '{key}'"
    allowed = list(parent.model_fields)
    return f"unknown key '{key}'" + (
        suggest(key, allowed) or f"; allowed keys: {list_choices(allowed, limit=20)}"
    )


def model_at(root: type[BaseModel], loc: KeyPath) -> type[BaseModel] | None:
    """The model class that validates the value at ``loc`` under ``root``."""
    annotation: Any = root
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return None
            annotation = field.annotation
        elif get_origin(annotation) in (list, dict):
            annotation = get_args(annotation)[-1]  # element type, or dict value type
        else:
            return None
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _unwrap(annotation: Any) -> Any:
    """``Annotated[X, ...]`` and ``X | None`` -> ``X``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation
