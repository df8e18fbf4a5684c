"""JSON answers that a stored bad value (a lone surrogate kept from before input was checked,
or from an old import) cannot break: such a character is sent as U+FFFD instead."""

from rest_framework import renderers

from clinic.text import BAD_ESCAPES


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            # Only on this rare path: ASCII-escaped output, its unpaired surrogates replaced.
            ascii_renderer = renderers.JSONRenderer()
            ascii_renderer.ensure_ascii = True
            body = ascii_renderer.render(data, accepted_media_type, renderer_context).decode()
            return BAD_ESCAPES.sub(r"\\ufffd", body).encode()
