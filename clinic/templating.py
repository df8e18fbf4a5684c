"""Django templates whose output a stored bad value cannot break (see clinic.text.scrub)."""

from django.template.backends.django import DjangoTemplates
from django.utils.safestring import SafeString, mark_safe

from clinic.text import scrub


class _ScrubbedTemplate:
    def __init__(self, template):
        self.template = template

    def __getattr__(self, name):
        return getattr(self.template, name)

    def render(self, context=None, request=None):
        html = self.template.render(context, request)
        cleaned = scrub(html)
        return mark_safe(cleaned) if isinstance(html, SafeString) else cleaned


class SafeTextTemplates(DjangoTemplates):
    """A page holding a lone surrogate (which UTF-8 cannot encode) shows U+FFFD, not a 500."""

    def from_string(self, template_code):
        return _ScrubbedTemplate(super().from_string(template_code))

    def get_template(self, template_name):
        return _ScrubbedTemplate(super().get_template(template_name))
