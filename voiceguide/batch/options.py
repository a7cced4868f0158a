"""The settings a manifest (or the batch command line) may set: the ones the settings schema
offers to the `batch` face, each checked by the schema's one check."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from .. import settings

DEFAULT_FORMAT = "mp3"
VARIANT_KEYS = ("speed", "voice", "ambient", "length")   # a list here makes variants, in this order


def _checker(name: str, spec: settings.Spec) -> Callable[[Any], Any]:
    return lambda value: settings.check_value(spec, value, name)


OPTIONS: dict[str, Callable[[Any], Any]] = {name: _checker(name, spec) for name, spec in settings.offered("batch")}
"""Setting name -> its check (ValueError says in a few words what is wrong)."""


def check_defaults(values: Mapping[str, Any]) -> dict[str, Any]:
    """Settings from outside a manifest (the command line), checked like a manifest's; a
    problem raises SettingError naming the setting (the CLI spells it --engine)."""
    return settings.check_all(values, allowed=OPTIONS)
