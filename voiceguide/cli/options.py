"""Click options derived from the settings schema, and the CLI's own option types.

Each setting a command offers becomes `--flag` with its type, range and help taken from
`voiceguide.settings`; a command receives them as keyword arguments and hands
`given(kwargs)` to the library, which resolves them once against the routine.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import click

from .. import settings
from ..script.durations import format_duration

class SettingType(click.ParamType):
    """A setting's value from the command line, checked by the schema's own check."""

    def __init__(self, name: str, spec: settings.Spec):
        self.setting, self.spec = name, spec
        self.name = spec.metavar.lower() or spec.kind

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if self.spec.kind in ("integer", "number") and isinstance(value, str):
            try:
                value = int(value) if self.spec.kind == "integer" else float(value)
            except ValueError:
                what = "a whole number" if self.spec.kind == "integer" else "a number"
                self.fail(f"must be {what} from {self.spec.describe_range()}", param, ctx)
        try:
            return settings.check_value(self.spec, value, self.setting)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class SwitchOffOption(click.Option):
    """`--NAME VALUE`, and `--no-NAME` meaning the setting's off value (`--cover FILE` and
    `--no-cover` for cover "none"): one setting, one parameter, two spellings."""

    def __init__(self, *args: Any, off_flag: str, off_value: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.off_flag, self.off_value = off_flag, off_value

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        parser.add_option(obj=self, opts=[self.off_flag], dest=self.name, action="store_const",
                          const=self.off_value)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        return None if record is None else (f"{record[0]} / {self.off_flag}", record[1])


def _default_text(name: str, spec: settings.Spec) -> str:
    default = settings.DEFAULTS[name]
    if spec.kind == "flag" or (default is None and not spec.front_matter):
        return ""
    if default is None:
        shown = "the routine's"
    elif spec.kind == "duration":
        shown = format_duration(default) if default else "none"
    elif isinstance(default, float):
        shown = f"{default:g}" + (f" {spec.unit}" if spec.unit not in ("", "x") else "")
    else:
        shown = str(default)
    if spec.front_matter and default is not None:
        shown = f"the routine's, else {shown}"
    return f"default: {shown}"


def help_text(name: str, spec: settings.Spec, face: str) -> str:
    """The help shown for a setting: its sentence (as this face needs it said), its range and
    its default."""
    sentence = spec.help_for(face)
    extra = [part for part in (spec.describe_range() if spec.kind in ("number", "integer") else "",
                               _default_text(name, spec)) if part]
    if not extra:
        return sentence
    return f"{sentence.rstrip('.')} ({'; '.join(extra)})."


def setting_options(face: str, *, skip: tuple[str, ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add a `--flag` for every setting `face` offers (in table order), except `skip`."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for name, spec in reversed(list(settings.offered(face))):
            if name in skip:
                continue
            if spec.kind == "flag":
                option = click.option(settings.cli_flag(name), name, is_flag=True, default=None,
                                      help=help_text(name, spec, face))
            else:
                metavar = spec.metavar or ("[" + "|".join(spec.choices) + "]" if spec.kind == "choice" else None)
                switch = {"cls": SwitchOffOption, "off_flag": "--no-" + settings.cli_flag(name)[2:],
                          "off_value": spec.off} if spec.off else {}
                option = click.option(settings.cli_flag(name), name, type=SettingType(name, spec), default=None,
                                      metavar=metavar, help=help_text(name, spec, face), **switch)
            func = option(func)
        return func

    return decorate


def given(values: Mapping[str, Any]) -> dict[str, Any]:
    """The settings among a command's keyword arguments that were given on the command line."""
    return {name: value for name, value in values.items()
            if name in settings.SCHEMA and value is not None and value is not False}


def split(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(settings given, the command's other arguments)."""
    return given(values), {k: v for k, v in values.items() if k not in settings.SCHEMA}
