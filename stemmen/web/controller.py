"""Page routes: thin, like the API controllers; the services do the work."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.types import ExceptionHandlersMap
from sqlmodel import col, select

from stemmen.auth import Role, TokenInvalid, User, decode_token, mint_token
from stemmen.ballots.money import format_eur
from stemmen.db import DbSession
from stemmen.rounds.models import Phase, Round, RoundArea
from stemmen.web.i18n import translate
from stemmen.web.session import LANG_COOKIE, TOKEN_COOKIE, page_language, page_user

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


def format_moment(moment: datetime | None) -> str:
    """A moment for people: to the minute, in UTC (said so), or a dash when there is none."""
    if moment is None:
        return "–"
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def render(request: Request[Any, Any, Any], template: str, **context: Any) -> Template:
    """A page in the visitor's language, remembering a language they picked."""
    lang = page_language(request)
    response = Template(
        template_name=template,
        context={
            "lang": lang,
            "t": lambda key, **values: translate(key, lang, **values),
            "user": page_user(request),
            "development": request.app.state.settings.development,
            "eur": lambda cents: format_eur(int(cents), lang),
            "when": format_moment,
            "switch_language": language_switch_href(request, lang),
            **context,
        },
    )
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


def language_switch_href(request: Request[Any, Any, Any], lang: str) -> str:
    """Where the language switch leads: this page in the other language. A page answering a
    form post has no address of its own to reload, so it leads back to the form's page."""
    other = "en" if lang == "nl" else "nl"
    if request.method == "GET":
        return f"?lang={other}"
    referer = urlsplit(request.headers.get("referer") or "")
    same_site = not referer.netloc or referer.netloc == request.url.netloc
    path = referer.path if same_site and referer.path.startswith("/") else "/"
    return f"{path}?lang={other}"


def _cookie_secure(request: Request[Any, Any, Any]) -> bool:
    return request.url.scheme == "https"


def signed_in(request: Request[Any, Any, Any], token: str) -> Redirect:
    response = Redirect("/", status_code=303)
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=_cookie_secure(request),
        max_age=8 * 3600,
    )
    return response


def user_sees_round(user: User | None, area_codes: list[str]) -> bool:
    from stemmen.rules.document import area_within

    if user is None or user.role != Role.RESIDENT or not user.areas:
        return True
    return any(
        area_within(mine, code) or area_within(code, mine)
        for mine in user.areas
        for code in area_codes
    )


def page_http_error(request: Request[Any, Any, Any], error: HTTPException) -> Template:
    """Framework refusals on a page (a form's CSRF token gone stale, above all) as a page in
    the visitor's language rather than the API's JSON body."""
    lang = page_language(request)
    key = "error.form_expired" if error.status_code == 403 else "error.request"
    response = render(
        request,
        "message.html",
        heading=translate("error.title", lang),
        message=translate(key, lang),
        kind="error",
    )
    response.status_code = error.status_code
    return response


PAGE_ERRORS: ExceptionHandlersMap = {HTTPException: page_http_error}


class PageController(Controller):
    path = "/"
    include_in_schema = False
    exception_handlers = PAGE_ERRORS

    @get("/")
    async def home(self, request: Request[Any, Any, Any], db_session: DbSession) -> Template:
        rounds = (
            await db_session.exec(
                select(Round)
                .where(col(Round.phase) != Phase.DRAFT.value)
                .order_by(col(Round.created_at).desc())
            )
        ).all()
        areas: dict[str, list[str]] = {}
        for area in (await db_session.exec(select(RoundArea))).all():
            areas.setdefault(area.round_id, []).append(area.code)
        user = page_user(request)
        visible = [round_ for round_ in rounds if user_sees_round(user, areas.get(round_.id, []))]
        return render(request, "home.html", rounds=visible)

    @get("/signin")
    async def signin_page(self, request: Request[Any, Any, Any]) -> Template:
        return render(request, "signin.html")

    @post("/signin", status_code=303)
    async def signin_development(
        self, request: Request[Any, Any, Any], data: Annotated[dict[str, str], FORM]
    ) -> Redirect | Template:
        settings = request.app.state.settings
        if not settings.development:
            return render(
                request,
                "message.html",
                heading=translate("signin.title", page_language(request)),
                message=translate("signin.production", page_language(request)),
            )
        role = data.get("role", "resident")
        subject = (data.get("subject") or "").strip()
        if role not in {r.value for r in Role} or not subject:
            return render(
                request, "signin.html", error=translate("signin.subject", page_language(request))
            )
        birth = data.get("birth_date") or None
        try:
            birth_date = date.fromisoformat(birth) if birth else None
        except ValueError:
            birth_date = None
        areas = [
            code.strip().upper() for code in (data.get("areas") or "").split(",") if code.strip()
        ]
        token = mint_token(
            settings,
            subject=subject,
            role=role,
            areas=areas,
            birth_date=birth_date,
            name=subject if role != Role.RESIDENT.value else None,
        )
        return signed_in(request, token)

    @post("/signin/token", status_code=303)
    async def signin_with_token(
        self, request: Request[Any, Any, Any], data: Annotated[dict[str, str], FORM]
    ) -> Redirect | Template:
        token = (data.get("token") or "").strip()
        try:
            decode_token(token, request.app.state.settings)
        except TokenInvalid as error:
            lang = page_language(request)
            return render(
                request, "signin.html", error=translate("signin.invalid", lang, reason=str(error))
            )
        return signed_in(request, token)

    @post("/signout", status_code=303)
    async def signout(self) -> Redirect:
        response = Redirect("/", status_code=303)
        response.delete_cookie(TOKEN_COOKIE)
        return response
