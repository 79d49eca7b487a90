"""Page texts in Dutch (default) and English.

Keys are stable; every page text goes through :func:`translate`, so a missing translation is
found by a test rather than by a resident. API errors carry ``message`` (English) and
``message_nl``; pages show the one in the visitor's language.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"

MESSAGES: dict[str, dict[str, str]] = {
    "site.name": {"nl": "stemmen", "en": "stemmen"},
    "site.tagline": {
        "nl": "Meebeslissen over uw buurt en uw stad",
        "en": "Have your say in your neighbourhood and your city",
    },
    "nav.home": {"nl": "Home", "en": "Home"},
    "nav.rounds": {"nl": "Rondes", "en": "Rounds"},
    "nav.receipt": {"nl": "Ontvangstbewijs controleren", "en": "Check a receipt"},
    "nav.signin": {"nl": "Inloggen", "en": "Sign in"},
    "nav.signout": {"nl": "Uitloggen", "en": "Sign out"},
    "nav.official": {"nl": "Beheer", "en": "Manage"},
    "nav.skip": {"nl": "Direct naar de inhoud", "en": "Skip to content"},
    "lang.switch": {"nl": "English", "en": "Nederlands"},
    "lang.other": {"nl": "en", "en": "nl"},
    "signed_in_as": {"nl": "Ingelogd als", "en": "Signed in as"},
    "role.resident": {"nl": "inwoner", "en": "resident"},
    "role.official": {"nl": "ambtenaar", "en": "official"},
    "role.auditor": {"nl": "controleur", "en": "auditor"},
    "role.admin": {"nl": "beheerder", "en": "administrator"},
    "home.open_rounds": {"nl": "Open rondes", "en": "Open rounds"},
    "home.no_rounds": {"nl": "Er zijn nu geen rondes.", "en": "There are no rounds at the moment."},
    "home.all_rounds": {"nl": "Alle rondes", "en": "All rounds"},
    "phase.draft": {"nl": "in voorbereiding", "en": "in preparation"},
    "phase.submission": {"nl": "voorstellen indienen", "en": "submitting proposals"},
    "phase.review": {"nl": "voorstellen worden beoordeeld", "en": "proposals under review"},
    "phase.supports": {"nl": "voorstellen steunen", "en": "supporting proposals"},
    "phase.voting": {"nl": "stemmen", "en": "voting"},
    "phase.closed": {"nl": "gesloten, uitslag volgt", "en": "closed, result to follow"},
    "phase.published": {"nl": "uitslag bekend", "en": "result published"},
    "signin.title": {"nl": "Inloggen", "en": "Sign in"},
    "signin.dev_warning": {
        "nl": "Ontwikkelmodus: dit inlogscherm maakt een testtoken. In productie logt u in via DigiD.",
        "en": "Development mode: this sign-in page mints a test token. In production you sign in through DigiD.",
    },
    "signin.production": {
        "nl": "U logt in via DigiD of met de stemcode uit uw brief.",
        "en": "You sign in through DigiD or with the voting code from your letter.",
    },
    "signin.role": {"nl": "Rol", "en": "Role"},
    "signin.subject": {"nl": "Naam of nummer (test)", "en": "Name or number (test)"},
    "signin.area": {"nl": "Wijk- of buurtcode", "en": "District or neighbourhood code"},
    "signin.area_hint": {
        "nl": "Bijvoorbeeld WK026801 (CBS-code). Meerdere codes scheiden met een komma.",
        "en": "For example WK026801 (CBS code). Separate several codes with commas.",
    },
    "signin.birth_date": {"nl": "Geboortedatum", "en": "Date of birth"},
    "signin.submit": {"nl": "Inloggen", "en": "Sign in"},
    "signin.token": {
        "nl": "Token van de identiteitsdienst",
        "en": "Token from the identity provider",
    },
    "signin.invalid": {
        "nl": "Dit token wordt niet geaccepteerd: {reason}",
        "en": "This token is not accepted: {reason}",
    },
    "signout.done": {"nl": "U bent uitgelogd.", "en": "You are signed out."},
    "error.title": {"nl": "Er ging iets mis", "en": "Something went wrong"},
    "error.not_found": {"nl": "Deze pagina bestaat niet.", "en": "This page does not exist."},
    "error.signin_needed": {"nl": "Log eerst in.", "en": "Please sign in first."},
    "error.forbidden": {
        "nl": "Dit mag u niet doen met uw rol.",
        "en": "Your role does not allow this.",
    },
    "footer.verifiable": {
        "nl": "Elke uitslag is openbaar na te rekenen met stemmen verify.",
        "en": "Every result can be recomputed by anyone with stemmen verify.",
    },
}


def translate(key: str, lang: str, **values: Any) -> str:
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text


def pick_language(
    query_lang: str | None, cookie_lang: str | None, accept_language: str | None
) -> str:
    for candidate in (query_lang, cookie_lang):
        if candidate in LANGUAGES:
            return candidate  # type: ignore[return-value]
    if accept_language and accept_language.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE
