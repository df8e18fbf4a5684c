"""Submit an admin add/change form as a browser does.

The page is fetched and its `<form>` parsed: every input, select and textarea with the value the
browser would send (hidden management forms and inline `-id` fields included, unchecked boxes
left out), so a field the page forgets to render makes the save fail here as it does for staff.

    form = AdminForm.open(client, url)
    form["name"] = "Asha Rao"
    row = form.add_inline("notes", subjective="Cough")   # as "Add another Note" does
    response = form.submit()
    assert_saved(response)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lxml.html

UNSENT_INPUTS = {"submit", "button", "reset", "image", "file"}


def _form_fields(form) -> list[tuple[str, str]]:
    """(name, value) pairs in document order, as a browser's form submission builds them."""
    pairs = []
    for element in form.iter("input", "select", "textarea"):
        name = element.get("name")
        if not name or element.get("disabled") is not None:
            continue
        if element.tag == "input":
            kind = (element.get("type") or "text").lower()
            if kind in UNSENT_INPUTS:
                continue
            if kind in {"checkbox", "radio"}:
                if element.get("checked") is not None:
                    pairs.append((name, element.get("value", "on")))
                continue
            pairs.append((name, element.get("value", "")))
        elif element.tag == "textarea":
            # The HTML parser drops the one newline that may follow <textarea>, as browsers do.
            pairs.append((name, element.text or ""))
        else:
            options = element.findall(".//option")
            chosen = [o for o in options if o.get("selected") is not None]
            if not chosen and options and element.get("multiple") is None:
                chosen = options[:1]  # a single select sends its first option by default
            pairs += [(name, o.get("value", o.text_content())) for o in chosen]
    return pairs


@dataclass
class AdminForm:
    client: object
    url: str
    data: dict[str, list[str]] = field(default_factory=dict)
    templates: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @classmethod
    def open(cls, client, url: str, form_id: str | None = None) -> AdminForm:
        response = client.get(url)
        assert response.status_code == 200, f"GET {url} answered {response.status_code}"
        return cls.parse(client, url, response.content.decode(), form_id)

    @classmethod
    def parse(cls, client, url: str, html: str, form_id: str | None = None) -> AdminForm:
        doc = lxml.html.fromstring(html)
        forms = [
            f
            for f in doc.iter("form")
            if (form_id and f.get("id") == form_id)
            or (not form_id and (f.get("id") or "").endswith("_form"))
        ]
        assert forms, f"no admin form on {url}"
        form = cls(client, url)
        for name, value in _form_fields(forms[0]):
            if "__prefix__" in name:  # the hidden template "Add another" clones
                prefix = name.split("-__prefix__-")[0].removeprefix("initial-")
                form.templates.setdefault(prefix, []).append((name, value))
                continue
            form.data.setdefault(name, []).append(value)
        return form

    def __getitem__(self, name: str) -> str:
        return self.data[name][-1]

    def __setitem__(self, name: str, value) -> None:
        if value is None:
            self.data.pop(name, None)
        elif isinstance(value, list | tuple):
            self.data[name] = [str(v) for v in value]
        else:
            self.data[name] = [str(value)]

    def __contains__(self, name: str) -> bool:
        return name in self.data

    def inline_prefixes(self) -> list[str]:
        return [
            name.removesuffix("-TOTAL_FORMS") for name in self.data if name.endswith("-TOTAL_FORMS")
        ]

    def inline_count(self, prefix: str) -> int:
        return int(self[f"{prefix}-TOTAL_FORMS"])

    def add_inline(self, prefix: str, **values) -> int:
        """Add a row from the inline's empty-form template, as "Add another …" does; returns its
        index. `values` are the row's fields by their short name."""
        assert prefix in self.templates, f"the page has no 'Add another' row for {prefix!r}"
        index = self.inline_count(prefix)
        for name, value in self.templates[prefix]:
            self.data.setdefault(name.replace("__prefix__", str(index)), []).append(value)
        self[f"{prefix}-TOTAL_FORMS"] = index + 1
        for short, value in values.items():
            self[f"{prefix}-{index}-{short}"] = value
        return index

    def set_inline(self, prefix: str, index: int, **values) -> None:
        for short, value in values.items():
            self[f"{prefix}-{index}-{short}"] = value

    def submit(self, **changes):
        for name, value in changes.items():
            self[name] = value
        return self.client.post(self.url, self.data)


def form_errors(response) -> list:
    """Every error the admin page reports: the main form's, each inline form's, each formset's."""
    context = response.context
    if context is None:
        return []
    errors = []
    adminform = context.get("adminform")
    if adminform is not None and adminform.form.errors:
        errors.append(adminform.form.errors)
    for inline in context.get("inline_admin_formsets") or []:
        formset = inline.formset
        errors += [e for e in formset.errors if e]
        if formset.non_form_errors():
            errors.append(formset.non_form_errors())
    return errors


def assert_saved(response) -> None:
    """The admin redirected after the save (it re-renders the page when anything is wrong)."""
    assert response.status_code == 302, form_errors(response) or response.content.decode()[:2000]


def submit_admin_form(client, url: str, **changes):
    """Open `url`, submit its form unchanged except for `changes`, return the response."""
    return AdminForm.open(client, url).submit(**changes)
