"""A resident's photo made safe to keep: one small JPEG, upright, with no metadata.

Pure (Pillow only). The upload's size and pixel count are checked before it is decoded, so a
decompression bomb (a small file that decodes to billions of pixels) is refused unread."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_MB = 12  # a tablet camera's photo is 2 to 8 MB
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
MAX_PIXELS = 50_000_000  # 50 megapixels: more than any tablet camera takes
SIDE = 480  # the kept photo fits in 480 x 480: enough to recognise a face, small to keep
READABLE_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "MPO"})


class PhotoError(ValueError):
    """Why an upload cannot be used as a photo, in words for the care manager."""


@dataclass(frozen=True)
class PreparedPhoto:
    jpeg: bytes
    width: int
    height: int
    sha256: str


def prepared_photo(data: bytes) -> PreparedPhoto:
    """The upload as a small upright JPEG without metadata, or a PhotoError saying why not."""
    if not data:
        raise PhotoError("Choose a photo, or take one with the tablet's camera.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoError(f"This file is too large: a photo of at most {MAX_UPLOAD_MB} MB.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            if image.format not in READABLE_FORMATS:
                raise PhotoError("This file is not a photo carelog can read: use JPEG or PNG.")
            if image.width * image.height > MAX_PIXELS:
                raise PhotoError("This image has too many pixels to be a photo. Use another.")
            image.seek(0)
            if image.format in ("JPEG", "MPO"):
                image.draft("RGB", (SIDE * 2, SIDE * 2))  # decode at a fraction of full size
            image.load()
            upright = ImageOps.exif_transpose(image)
            upright = upright.convert("RGB")
            upright.thumbnail((SIDE, SIDE), Image.Resampling.LANCZOS)
        except PhotoError:
            raise
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as bomb:
            raise PhotoError("This image has too many pixels to be a photo. Use another.") from bomb
        except UnidentifiedImageError as unknown:
            raise PhotoError(
                "This file is not a photo carelog can read: use JPEG or PNG."
            ) from unknown
        except (OSError, ValueError, SyntaxError, EOFError) as broken:
            raise PhotoError("This photo file is damaged or incomplete. Try another.") from broken
    out = io.BytesIO()
    # A fresh image carries no EXIF, GPS, maker notes or comments: only the pixels are saved.
    clean = Image.new("RGB", upright.size)
    clean.paste(upright)
    clean.save(out, "JPEG", quality=85, optimize=True)
    jpeg = out.getvalue()
    return PreparedPhoto(jpeg, clean.width, clean.height, hashlib.sha256(jpeg).hexdigest())
