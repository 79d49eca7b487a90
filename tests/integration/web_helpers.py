"""Driving the pages as a browser without JavaScript would: a token cookie, the CSRF token
taken from the page that holds the form, and url-encoded posts."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import unescape
from typing import Any

from tests.integration.round_helpers import ADULT_BIRTH_DATE

CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_token(page: str) -> str:
    match = CSRF_FIELD.search(page)
    assert match, "the form carries no CSRF token"
    return match.group(1)


def sign_in(client: Any, token: Any, role: str, subject: str, **claims: Any) -> None:
    """Be ``subject`` in ``role`` for the following requests (the pages' HttpOnly cookie)."""
    client.cookies.set("stemmen_token", token(role, subject, **claims))


def sign_in_resident(client: Any, token: Any, subject: str, area: str) -> None:
    sign_in(client, token, "resident", subject, areas=[area], birth_date=ADULT_BIRTH_DATE)


async def submit(
    client: Any,
    page_url: str,
    action: str,
    fields: Mapping[str, str | Sequence[str]],
    *,
    lang: str | None = None,
) -> Any:
    """Open ``page_url``, then post ``fields`` to ``action`` with the page's CSRF token."""
    query = f"?lang={lang}" if lang else ""
    page = await client.get(page_url + query)
    assert page.status_code == 200, page.text
    return await client.post(
        action,
        data={**fields, "_csrf_token": csrf_token(page.text)},
        headers={"referer": str(page.url)},  # as a browser sends it with a same-site form
        follow_redirects=True,
    )


def text_of(html: str) -> str:
    """The page's text with tags removed and whitespace collapsed, for reading assertions."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
