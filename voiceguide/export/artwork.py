"""Cover art inside the audio file: embedding a picture and reading it back, per container.

  mp3, wav   an ID3 APIC frame, type 3 "front cover" (wav: in its ID3 chunk);
  m4a, m4b   the iTunes `covr` atom;
  flac       a METADATA_BLOCK_PICTURE block;
  ogg, opus  a METADATA_BLOCK_PICTURE Vorbis comment (the same block, base64), which is
             how Vorbis and Opus players find artwork.

Written with mutagen into the encoder's temporary file, after the tags and chapters, so the
output still appears whole or not at all. Only PNG and JPEG are embedded (what every
container and podcast app reads); another image format is converted to PNG first.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

MAX_BYTES = 20_000_000           # a user's picture larger than this is refused
MAX_PIXELS = 50_000_000          # and so is one that decodes to more pixels than this
FRONT_COVER = 3                  # the picture type of ID3 APIC and FLAC pictures
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}


@dataclass(frozen=True)
class PictureInfo:
    mime: str
    width: int
    height: int
    depth: int                   # bits per pixel, as a FLAC picture block records it


def picture_info(data: bytes) -> PictureInfo:
    """What a PNG or JPEG is; ValueError ("is not a PNG or JPEG image") for anything else."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(data)) as image:
            kind, size, mode = image.format, image.size, image.mode
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ValueError("is not a PNG or JPEG image") from None
    if kind not in FORMATS:
        raise ValueError(f"is a {kind} image, not PNG or JPEG")
    depth = {"1": 1, "L": 8, "P": 8, "LA": 16, "RGB": 24, "RGBA": 32, "CMYK": 32}.get(mode, 24)
    return PictureInfo(FORMATS[kind], size[0], size[1], depth)


def checked_picture(data: bytes) -> bytes:
    """A user's picture ready to embed: PNG and JPEG as they are, any other image Pillow
    decodes converted to PNG. ValueError (a few words to follow the file's name) if it is
    not an image, is damaged, or is absurdly large."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(data)) as image:
            if image.size[0] * image.size[1] > MAX_PIXELS:
                raise ValueError(f"is too large a picture ({image.size[0]}×{image.size[1]} pixels)")
            image.load()                         # a truncated or damaged file fails here
            if image.format in FORMATS:
                return data
            converted = BytesIO()
            image.convert("RGBA" if "A" in image.getbands() else "RGB").save(converted, "PNG")
            return converted.getvalue()
    except UnidentifiedImageError:
        raise ValueError("is not an image (PNG or JPEG)") from None
    except Image.DecompressionBombError:
        raise ValueError("is too large a picture") from None
    except (OSError, SyntaxError):               # Pillow's decoders raise these for damaged files
        raise ValueError("is a damaged image") from None


# -- per container --------------------------------------------------------------------------


def _flac_picture(data: bytes, info: PictureInfo):
    from mutagen.flac import Picture

    picture = Picture()
    picture.type, picture.mime, picture.desc = FRONT_COVER, info.mime, "Cover"
    picture.width, picture.height, picture.depth = info.width, info.height, info.depth
    picture.data = data
    return picture


def _apic(data: bytes, info: PictureInfo):
    from mutagen.id3 import APIC

    return APIC(encoding=3, mime=info.mime, type=FRONT_COVER, desc="Cover", data=data)


def embed_picture(path: str | Path, format_name: str, data: bytes) -> None:
    """Add `data` (PNG or JPEG) as the front cover of the audio file at `path`, whose format
    (an export format name) says how. Tags already there stay."""
    import mutagen

    info = picture_info(data)
    if format_name == "mp3":
        from mutagen.id3 import ID3, ID3NoHeaderError

        try:
            id3 = ID3(str(path))
        except ID3NoHeaderError:
            id3 = ID3()
        id3.delall("APIC")
        id3.add(_apic(data, info))
        id3.save(str(path), v2_version=3, v1=0)
    elif format_name == "wav":
        from mutagen.wave import WAVE

        wave = WAVE(str(path))
        if wave.tags is None:
            wave.add_tags()
        wave.tags.delall("APIC")
        wave.tags.add(_apic(data, info))
        wave.save(v2_version=3)
    elif format_name in ("m4a", "m4b"):
        from mutagen.mp4 import MP4, MP4Cover

        mp4 = MP4(str(path))
        if mp4.tags is None:
            mp4.add_tags()
        kind = MP4Cover.FORMAT_PNG if info.mime == "image/png" else MP4Cover.FORMAT_JPEG
        mp4.tags["covr"] = [MP4Cover(data, imageformat=kind)]
        mp4.save()
    elif format_name == "flac":
        from mutagen.flac import FLAC

        flac = FLAC(str(path))
        flac.clear_pictures()
        flac.add_picture(_flac_picture(data, info))
        flac.save()
    elif format_name in ("ogg", "opus"):
        audio = mutagen.File(str(path))
        if audio is None:
            raise ValueError(f"{path} is not an ogg or opus file")
        if audio.tags is None:
            audio.add_tags()
        block = base64.b64encode(_flac_picture(data, info).write()).decode("ascii")
        audio.tags["METADATA_BLOCK_PICTURE"] = [block]
        audio.save()
    else:
        raise ValueError(f"cannot embed a picture in {format_name}")


def read_picture(path: str | Path) -> bytes | None:
    """The front cover embedded in an exported file (the first picture), or None."""
    import mutagen

    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix in ("mp3", "wav"):
        if suffix == "mp3":
            from mutagen.id3 import ID3, ID3NoHeaderError

            try:
                id3 = ID3(str(path))
            except ID3NoHeaderError:
                return None
        else:
            from mutagen.wave import WAVE

            id3 = WAVE(str(path)).tags
        frames = id3.getall("APIC") if id3 is not None else []
        return bytes(frames[0].data) if frames else None
    audio = mutagen.File(str(path))
    if audio is None or audio.tags is None and not getattr(audio, "pictures", None):
        return None
    if suffix in ("m4a", "m4b", "mp4"):
        covers = audio.tags.get("covr", [])
        return bytes(covers[0]) if covers else None
    if suffix == "flac":
        return bytes(audio.pictures[0].data) if audio.pictures else None
    from mutagen.flac import Picture

    blocks = audio.tags.get("METADATA_BLOCK_PICTURE", [])
    return bytes(Picture(base64.b64decode(blocks[0])).data) if blocks else None
