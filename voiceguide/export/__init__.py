"""Getting a session out of the mixer and onto disk: streaming encoders, tags and chapters,
transcript sidecars, all written atomically.

(The `encode()` function lives in `voiceguide.export.encode`; it is not re-exported here so
that the name keeps meaning the module.)"""
from .atomic import OutputExistsError, atomic_output
from .encode import FORMATS, EncodeError, EncodeResult, export, resolve_format
from .sidecars import write_json, write_sidecars, write_srt, write_txt, write_vtt
from .tags import Chapter, Tags, chapters_from_timeline, read_chapters, read_tags_and_chapters

__all__ = [
    "FORMATS", "Chapter", "EncodeError", "EncodeResult", "OutputExistsError", "Tags",
    "atomic_output", "chapters_from_timeline", "export", "read_chapters",
    "read_tags_and_chapters", "resolve_format", "write_json", "write_sidecars", "write_srt",
    "write_txt", "write_vtt",
]
