"""Small PNG previews of images and of a PDF's first page, for the admin and the timeline."""

import io
import logging

from PIL import Image, ImageOps

logger = logging.getLogger(__name__)
SIZE = (240, 240)

try:  # HEIC photos (iPhones) open in Pillow once pillow-heif registers its opener.
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - optional
    pass


def _pdf_first_page(data: bytes) -> Image.Image:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(data)
    try:
        page = pdf[0]
        scale = SIZE[0] / max(page.get_width(), 1)
        return page.render(scale=max(scale, 0.1)).to_pil()
    finally:
        pdf.close()


def render_thumbnail(data: bytes, kind: str) -> bytes | None:
    """PNG bytes of a preview, or None when the file has no picture (audio) or cannot be read."""
    try:
        if kind == "pdf":
            image = _pdf_first_page(data)
        elif kind == "image":
            image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
        else:
            return None
        image = image.convert("RGB")
        image.thumbnail(SIZE)
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
        return out.getvalue()
    except Exception:  # a damaged file still uploads; it just has no preview
        logger.warning("No thumbnail: the %s could not be rendered", kind, exc_info=True)
        return None
