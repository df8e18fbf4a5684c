"""Submit a rendered admin form the way a browser does: every field the page holds (management
forms, inline ids, hidden inputs), as rendered, with the changes a user would type."""

import lxml.html


def rendered_form(response, form_id: str | None = None) -> dict[str, str | list[str]]:
    """The data a browser would send for the page's form (the first form with method=post, or
    the one with `form_id`), before the user types anything."""
    page = lxml.html.fromstring(response.content.decode())
    forms = [
        f
        for f in page.forms
        if (f.get("method") or "").lower() == "post" and f.get("id") != "logout-form"
    ]
    if form_id:
        forms = [f for f in forms if f.get("id") == form_id]
    assert forms, "no POST form on the page"
    data: dict[str, str | list[str]] = {}
    for element in forms[0].inputs:
        name = element.get("name")
        if not name or "__prefix__" in name or name == "csrfmiddlewaretoken":
            continue
        tag, kind = element.tag, (element.get("type") or "text").lower()
        if tag == "input" and kind in ("submit", "button", "file", "image", "reset"):
            continue
        if tag == "input" and kind in ("checkbox", "radio"):
            if element.checked:
                data[name] = element.get("value") or "on"
            continue
        if tag == "select":
            options = [o.get("value", o.text or "") for o in element.findall(".//option")]
            chosen = [o.get("value", o.text or "") for o in element.findall(".//option")
                      if o.get("selected") is not None]  # fmt: skip
            chosen = chosen or options[:1]  # a browser sends the first option when none is chosen
            if element.multiple:
                data[name] = chosen
            else:
                data[name] = chosen[0] if chosen else ""
            continue
        data[name] = element.value or ""
    return data


def submit(client, url: str, changes: dict | None = None, drop: tuple[str, ...] = ()):
    """GET the page, change what a user would change, POST everything back."""
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    data = rendered_form(page)
    for name in drop:
        data.pop(name, None)
    data.update(changes or {})
    return client.post(url, data)


def errors_of(response) -> object:
    """Every error on a re-rendered admin form, for assertion messages."""
    context = response.context or {}
    errors = []
    if "adminform" in context:
        errors.append(context["adminform"].form.errors)
    for inline in context.get("inline_admin_formsets", []):
        errors.append(inline.formset.errors)
        errors.append(inline.formset.non_form_errors())
    return errors or response.content[:500]
