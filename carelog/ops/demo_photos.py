"""Photos for a few demo residents: drawn portraits (initials on a colour), never real faces."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFont

from carelog.audit.actor import Actor
from carelog.residents import photos

# resident index -> (background colour, who agreed)
DEMO_PHOTOS = {0: ((122, 154, 110), "resident"), 3: ((176, 124, 84), "representative"),
               6: ((96, 128, 170), "resident")}  # fmt: skip


def portrait(initials: str, colour: tuple[int, int, int]) -> bytes:
    """A 480 x 480 stand-in for a photo: a head and shoulders with the resident's initials."""
    image = Image.new("RGB", (480, 480), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((150, 70, 330, 270), fill=(238, 214, 196))  # head
    draw.rounded_rectangle((80, 290, 400, 560), radius=120, fill=(245, 245, 240))  # shoulders
    font = ImageFont.load_default(size=72)
    draw.text((240, 400), initials, fill=colour, font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def add_demo_photo(actor: Actor, index: int, resident_id: int, initials: str) -> None:
    """Keep a drawn portrait as the resident's photo, if the demo gives them one."""
    if index not in DEMO_PHOTOS:
        return
    colour, agreed_by = DEMO_PHOTOS[index]
    photos.add_photo(
        actor, resident_id, portrait(initials, colour), agreed_by, "Agreed at the admission meeting"
    )
