"""The pages' ground: Dutch by default, English on request, sign-in, CSRF on every form."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import TEST_JWT_SECRET


def csrf_token(page: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert match, "the form carries no CSRF token"
    return match.group(1)


async def test_home_page_is_dutch_by_default_and_english_on_request(client: Any) -> None:
    dutch = await client.get("/")
    assert dutch.status_code == 200
    assert '<html lang="nl">' in dutch.text
    english = await client.get("/?lang=en")
    assert '<html lang="en">' in english.text
    assert "stemmen_lang=en" in english.headers.get("set-cookie", "")


async def test_sign_in_page_without_development_mode_offers_only_the_identity_provider(
    client: Any,
) -> None:
    page = await client.get("/signin")
    assert "DigiD" in page.text
    assert 'name="role"' not in page.text


async def test_form_without_csrf_token_is_refused(client: Any) -> None:
    response = await client.post("/signin/token", data={"token": "x"})
    assert response.status_code == 403


async def test_identity_provider_token_signs_in_through_an_httponly_cookie(
    client: Any, token: Any
) -> None:
    page = await client.get("/signin")
    response = await client.post(
        "/signin/token",
        data={"token": token("resident", areas=["WK026801"]), "_csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "stemmen_token=" in cookie
    assert "HttpOnly" in cookie
    home = await client.get("/")
    assert "resident-1" in home.text


async def test_a_bad_token_is_explained_on_the_sign_in_page(client: Any) -> None:
    page = await client.get("/signin")
    response = await client.post(
        "/signin/token", data={"token": "not-a-token", "_csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 200
    assert 'class="error"' in response.text


@pytest.fixture
def development_settings(settings: Any) -> Any:
    return settings.model_copy(update={"development": True, "jwt_secret": TEST_JWT_SECRET})


async def test_development_sign_in_mints_a_clearly_marked_test_token(
    development_settings: Any,
) -> None:
    from litestar.testing import AsyncTestClient

    from stemmen.app import create_app

    async with AsyncTestClient(app=create_app(development_settings)) as client:
        page = await client.get("/signin")
        assert 'class="dev-banner"' in page.text
        response = await client.post(
            "/signin",
            data={
                "role": "official",
                "subject": "j.devries",
                "areas": "",
                "birth_date": "",
                "_csrf_token": csrf_token(page.text),
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert "stemmen_token=" in response.headers["set-cookie"]


async def test_static_stylesheet_is_served(client: Any) -> None:
    response = await client.get("/static/style.css")
    assert response.status_code == 200
    assert ":focus-visible" in response.text


async def test_a_sign_in_form_without_its_csrf_token_is_explained_on_a_page(client: Any) -> None:
    response = await client.post("/signin/token", data={"token": "x"})
    assert response.status_code == 403
    assert '<html lang="nl">' in response.text
    assert "Dit formulier is verlopen" in response.text
