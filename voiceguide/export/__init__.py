"""Getting a session out of the mixer and onto disk: streaming encoders, tags and chapters,
transcript sidecars, all written atomically."""
from .atomic import OutputExistsError, atomic_output
from .encode import FORMATS, EncodeError, EncodeResult, encode, export, resolve_format
from .sidecars import write_json, write_sidecars, write_srt, write_txt, write_vtt
from .tags import Chapter, Tags, chapters_from_timeline, read_chapters, read_tags_and_chapters

__all__ = [
    "FORMATS", "Chapter", "EncodeError", "EncodeResult", "OutputExistsError", "Tags",
    "atomic_output", "chapters_from_timeline", "encode", "export", "read_chapters",
    "read_tags_and_chapters", "resolve_format", "write_json", "write_sidecars", "write_srt",
    "write_txt", "write_vtt",
]
