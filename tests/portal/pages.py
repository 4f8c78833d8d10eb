"""Filling the portal's forms over HTTP as a browser does: the CSRF token first, then the POST."""

import re

LOGIN_PASSWORD = "login password"
CONFIRMATION = "confirmation password"


def csrf_of(page):
    """The CSRF token in a page's forms."""
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def submit(client, path, fields, page_path=None):
    """GET ``page_path`` (default ``path``) for its CSRF token, then POST ``fields`` to ``path``."""
    token = csrf_of(client.get(page_path or path))
    return client.post(path, data={"csrf": token, **fields})


def login(client, user_id, password=LOGIN_PASSWORD):
    return submit(client, "/login", {"user_id": user_id, "password": password})
