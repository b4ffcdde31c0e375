"""Product pictures drawn on the spot: one deterministic SVG per product, no network.

The colour comes from the product's type (a shop's shirts share a hue), the shape from its
handle, the letters from its title; the seed's `image_url` points here.
"""

from __future__ import annotations

import hashlib
import html

IMAGE_PATH = "/cdn/shop/products/{handle}.svg"


def product_image_url(handle: str) -> str:
    return IMAGE_PATH.format(handle=handle)


def _number(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def _initials(title: str) -> str:
    words = [w for w in title.replace("-", " ").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def product_image_svg(handle: str, title: str = "", product_type: str = "") -> str:
    """A square picture: a pale ground in the type's hue, a shape, the title's initials."""
    hue = _number(product_type or handle) % 360
    turn = _number(handle)
    shade = 30 + turn % 20
    shape = (
        '<circle cx="400" cy="380" r="230"/>',
        '<rect x="170" y="150" width="460" height="460" rx="60"/>',
        '<path d="M400 130 670 400 400 670 130 400Z"/>',
        '<path d="M400 140 660 620H140Z"/>',
    )[turn % 4]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 800" width="800" height="800"'
        f' role="img" aria-label="{html.escape(title or handle)}">'
        f'<rect width="800" height="800" fill="hsl({hue} 45% 92%)"/>'
        f'<g fill="hsl({hue} 40% {shade + 25}%)">{shape}</g>'
        f'<text x="400" y="440" text-anchor="middle" font-family="system-ui, sans-serif" font-size="150"'
        f' font-weight="700" fill="hsl({hue} 45% {shade}%)">{html.escape(_initials(title or handle))}</text>'
        "</svg>"
    )
