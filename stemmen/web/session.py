"""Who is looking at a page: the identity provider's token, kept in an HttpOnly cookie.

Pages never put a token or ballot content in a URL. In production the identity provider posts
its token to ``/signin/token``; in development mode only, ``/signin`` mints a test token.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from stemmen.auth import TokenInvalid, User, decode_token
from stemmen.web.i18n import pick_language

TOKEN_COOKIE = "stemmen_token"  # noqa: S105 - a cookie name, not a secret
LANG_COOKIE = "stemmen_lang"


def page_user(request: Request[Any, Any, Any]) -> User | None:
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        return None
    try:
        return decode_token(token, request.app.state.settings)
    except TokenInvalid:
        return None


def page_language(request: Request[Any, Any, Any]) -> str:
    return pick_language(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )
