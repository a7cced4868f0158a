"""`voiceguide voices`: list the voices, add a piper voice you bring, remove one you added, and
list the languages a routine can be written in."""
from __future__ import annotations

import json

import click

from .failures import reports_errors, warn, working
from .group import main


@main.group(invoke_without_command=True)
@click.option("--all", "all_languages", is_flag=True, help="Also list voices in other languages.")
@click.option("--json", "as_json", is_flag=True, help="Print the listing as JSON.")
@click.pass_context
@reports_errors
def voices(ctx: click.Context, all_languages: bool, as_json: bool) -> None:
    """List every speech engine's voices (an added voice with its licence) and which engine
    `auto` picks; add or remove a piper voice of your own.

    Added voices live in voiceguide's data folder (VOICEGUIDE_DATA_DIR overrides it);
    VOICEGUIDE_VOICES names a shared, read-only folder of voices.

    \b
    Examples:
      voiceguide voices
      voiceguide voices add en_US-amy-medium.onnx --name amy
      voiceguide render desk-break -o desk.mp3 --engine pyttsx3 --voice gmw/en-gb-x-rp
    """
    if ctx.invoked_subcommand is not None:
        return
    from ..voices import describe, format_listing
    from ..voices.places import user_voice_dir

    listing = describe()
    if as_json:
        click.echo(json.dumps(listing.to_json(), indent=2))
    else:
        click.echo(format_listing(listing, all_languages, more=" (--all to list)"))
        click.echo(f"add a piper voice with: voiceguide voices add MODEL.onnx  (it goes to {user_voice_dir()})")


@voices.command("add")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--name", help="The name to use it by (default: the model's file name).")
@click.option("--licence", "--license", "licence", metavar="TEXT",
              help="The voice's licence, when its config and MODEL_CARD do not say it.")
def voices_add(model: str, name: str | None, licence: str | None) -> None:
    """Check a piper voice and install it, to use it by name anywhere.

    MODEL is a piper model (.onnx) with its config (.onnx.json) beside it. The voice is
    loaded in a piper worker and speaks a test sentence first; a broken, truncated or
    mismatched voice is refused and nothing is installed. Its language, sample rate, quality
    and licence are recorded (the licence from its config, the MODEL_CARD beside it, or
    --licence).

    \b
    Examples:
      voiceguide voices add en_US-amy-medium.onnx
      voiceguide voices add ~/Downloads/calm.onnx --name calm --licence "CC BY 4.0"
    """
    from ..cachedir import cache_dir
    from ..store import Store
    from ..voices.installed import add

    with working(lambda: "cancelled: no voice was added"):
        added = add(model, name, licence, store=Store(cache_dir()), step=lambda s: click.echo(f"{s} ...", err=True))
    v = added.voice
    where = f" (from its {v.licence_from})" if v.licence_from in ("config", "model card") else ""
    quality = f", {v.quality}" if v.quality else ""
    click.echo(f"added voice '{v.name}': {v.language or 'language unknown'}, {v.sample_rate} Hz{quality}, "
               f"licence {v.licence}{where}")
    click.echo(f"  {v.folder}")
    click.echo(f'  use it with --voice {v.name}, or voice = "{v.name}" in a routine\'s front matter')
    if not v.licence_known:
        warn(f"the licence of '{v.name}' is unknown: check it before you share sessions made with it "
             f"(and say it with --licence when you add it again)")


@voices.command("remove")
@click.argument("name")
@reports_errors
def voices_remove(name: str) -> None:
    """Uninstall a voice added with `voiceguide voices add` (never one in a shared
    VOICEGUIDE_VOICES folder).

    \b
    Example:
      voiceguide voices remove amy
    """
    from ..voices.installed import remove

    gone = remove(name)
    click.echo(f"removed voice '{gone.name}' ({gone.folder})")


@voices.command("languages")
@click.option("--json", "as_json", is_flag=True, help="Print the listing as JSON.")
@click.option("--template", metavar="TAG",
              help="Print a phrase table for TAG to translate (its own if there is one, else English's).")
@reports_errors
def voices_languages(as_json: bool, template: str | None) -> None:
    """List the languages a routine can be written in.

    These are the tags `language = "..."` takes: the phrase tables voiceguide ships and the
    ones you added (phrases/TAG.toml in the data folder; docs/voices.md, "Adding a
    language"). A table you added that cannot be used is listed with why.

    \b
    Examples:
      voiceguide voices languages
      voiceguide voices languages --template it > ~/.local/share/voiceguide/phrases/it.toml
    """
    from ..script.phrases import languages, phrase_dir, template_for

    if template is not None:
        click.echo(template_for(template), nl=False)
        return

    listing = languages()
    if as_json:
        click.echo(json.dumps(listing, indent=2, ensure_ascii=False))
        return
    width = max(len(entry["tag"]) for entry in listing)
    for entry in listing:
        where = "shipped" if entry["source"] == "shipped" else f"added: {entry['source']}"
        if "english" in entry:
            where += f"; in English: {entry['english']}"
        if "error" in entry:
            click.echo(f"{entry['tag']:<{width}}  cannot be used: {entry['error']}")
        else:
            click.echo(f"{entry['tag']:<{width}}  {entry['name']} ({where})")
    click.echo(f"add a language: write its table to {phrase_dir()}/TAG.toml")
