"""The tablet can put carelog on its home screen: a manifest with icons, served by the app."""

from __future__ import annotations

import io
import json

from PIL import Image


def test_the_manifest_and_its_icons_are_served_by_the_app(client):
    page = client.get("/auth/sign-in").get_data(as_text=True)
    assert '<link rel="manifest" href="/static/manifest.webmanifest">' in page
    assert 'rel="apple-touch-icon" href="/static/icons/apple-touch-icon.png"' in page
    with client.get("/static/manifest.webmanifest") as response:
        assert response.status_code == 200
        assert response.mimetype in ("application/manifest+json", "application/json")
        manifest = json.loads(response.data)
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    sizes = set()
    for icon in manifest["icons"]:
        assert icon["src"].startswith("/static/")  # nothing from the internet
        with client.get(icon["src"]) as served:
            image = Image.open(io.BytesIO(served.data))
        assert f"{image.width}x{image.height}" == icon["sizes"]
        sizes.add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes
    with client.get("/static/icons/apple-touch-icon.png") as served:
        touch = Image.open(io.BytesIO(served.data))
    assert touch.size == (180, 180)
