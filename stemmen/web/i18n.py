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
    # ------------------------------------------------------------------ a round
    "round.phase_now": {"nl": "Nu", "en": "Now"},
    "round.what_now": {"nl": "Wat kunt u nu doen?", "en": "What can you do now?"},
    "round.submission_open": {
        "nl": "U kunt nu een voorstel indienen voor uw buurt.",
        "en": "You can now submit a proposal for your neighbourhood.",
    },
    "round.under_review": {
        "nl": "De gemeente beoordeelt nu de voorstellen op haalbaarheid en kosten.",
        "en": "The municipality is now reviewing the proposals for feasibility and cost.",
    },
    "round.supports_open": {
        "nl": "U kunt nu voorstellen steunen. Voorstellen met genoeg steun komen op het stembiljet.",
        "en": "You can now support proposals. Proposals with enough support go on the ballot.",
    },
    "round.voting_open": {"nl": "De stemming is open.", "en": "Voting is open."},
    "round.schedule": {"nl": "Planning", "en": "Schedule"},
    "round.phase": {"nl": "Fase", "en": "Phase"},
    "round.planned": {"nl": "Gepland", "en": "Planned"},
    "round.started": {"nl": "Begonnen", "en": "Started"},
    "round.not_scheduled": {"nl": "niet gepland", "en": "not scheduled"},
    "round.areas": {"nl": "Gebieden", "en": "Areas"},
    "round.budget": {"nl": "budget", "en": "budget"},
    "round.proposals": {"nl": "Voorstellen", "en": "Proposals"},
    "round.no_proposals": {
        "nl": "Er zijn nog geen voorstellen.",
        "en": "There are no proposals yet.",
    },
    "field.title": {"nl": "Titel", "en": "Title"},
    "field.description": {"nl": "Beschrijving", "en": "Description"},
    "field.area": {"nl": "Gebied", "en": "Area"},
    "field.areas": {"nl": "Gebieden", "en": "Areas"},
    "field.category": {"nl": "Categorie", "en": "Category"},
    "field.estimated_cost_cents": {"nl": "Geschatte kosten (euro)", "en": "Estimated cost (euros)"},
    "field.final_cost_cents": {"nl": "Vastgestelde kosten", "en": "Final cost"},
    "field.ruleset_hash": {"nl": "Kader", "en": "Rule set"},
    "field.key": {"nl": "Sleutel", "en": "Key"},
    "field.options": {"nl": "Opties", "en": "Options"},
    "field.decision": {"nl": "Besluit", "en": "Decision"},
    "field.reason": {"nl": "Reden", "en": "Reason"},
    "field.revision": {"nl": "Versie", "en": "Revision"},
    "error.form_expired": {
        "nl": "Dit formulier is verlopen of komt niet van deze site. Ga terug, laad de pagina opnieuw en probeer het nog eens.",
        "en": "This form has expired or did not come from this site. Go back, reload the page and try again.",
    },
    "error.request": {
        "nl": "Dit verzoek kan niet worden verwerkt. Ga terug en probeer het opnieuw.",
        "en": "This request cannot be handled. Go back and try again.",
    },
    "error.fields": {
        "nl": "Controleer deze velden: {fields}.",
        "en": "Please check these fields: {fields}.",
    },
    "status.submitted": {
        "nl": "ingediend, wacht op beoordeling",
        "en": "submitted, awaiting review",
    },
    "status.accepted": {"nl": "goedgekeurd", "en": "accepted"},
    "status.rejected": {"nl": "afgewezen", "en": "rejected"},
    "status.merged": {"nl": "samengevoegd", "en": "merged"},
    "status.withdrawn": {"nl": "ingetrokken", "en": "withdrawn"},
    "proposal.cost": {"nl": "Kosten", "en": "Cost"},
    "proposal.estimate": {"nl": "schatting", "en": "estimate"},
    "proposal.status": {"nl": "Status", "en": "Status"},
    "proposal.yours": {"nl": "uw voorstel", "en": "your proposal"},
    "proposal.reason": {"nl": "Toelichting gemeente", "en": "The municipality's reason"},
    "proposal.supports": {"nl": "Steunbetuigingen", "en": "Supports"},
    "proposal.support": {"nl": "Steun dit voorstel", "en": "Support this proposal"},
    "proposal.you_support": {"nl": "U steunt dit voorstel.", "en": "You support this proposal."},
    "proposal.withdraw": {"nl": "Voorstel intrekken", "en": "Withdraw proposal"},
    "proposal.withdraw_support": {"nl": "Steun intrekken", "en": "Withdraw support"},
    # ------------------------------------------------------------------ submitting
    "propose.title": {"nl": "Voorstel indienen", "en": "Submit a proposal"},
    "propose.description_hint": {
        "nl": "Wat wilt u, waar, en wie heeft er iets aan?",
        "en": "What do you want, where, and who benefits?",
    },
    "propose.category_hint": {
        "nl": "Kies de categorie die het best past.",
        "en": "Choose the category that fits best.",
    },
    "propose.choose": {"nl": "Kies…", "en": "Choose…"},
    "propose.cost_hint": {
        "nl": "In hele euro's, bijvoorbeeld 12500. Een voorstel kost volgens het kader van de raad tussen {low} en {high}.",
        "en": "In whole euros, for example 12500. The council's rule set lets a proposal cost from {low} to {high}.",
    },
    "propose.cost_unreadable": {
        "nl": "Vul de kosten in als bedrag in euro's, bijvoorbeeld 12500 of 12.500,50.",
        "en": "Give the cost as an amount in euros, for example 12500 or 12,500.50.",
    },
    "propose.per_resident": {
        "nl": "U kunt in deze ronde hoogstens {count} voorstel(len) indienen.",
        "en": "You can submit at most {count} proposal(s) in this round.",
    },
    "propose.send": {"nl": "Voorstel versturen", "en": "Send proposal"},
    "propose.none": {
        "nl": "In deze ronde worden geen voorstellen ingediend.",
        "en": "This round takes no proposals.",
    },
    "propose.sent": {"nl": "Voorstel ontvangen", "en": "Proposal received"},
    "propose.sent_text": {
        "nl": "Dank u. Uw voorstel '{title}' is ontvangen; de gemeente beoordeelt het.",
        "en": "Thank you. Your proposal '{title}' has been received; the municipality will review it.",
    },
    # ------------------------------------------------------------------ voting
    "vote.go": {"nl": "Naar het stembiljet", "en": "Go to the ballot"},
    "vote.title": {"nl": "Stemmen", "en": "Vote"},
    "vote.for_area": {"nl": "Stembiljet voor {area}.", "en": "Ballot for {area}."},
    "vote.closes": {"nl": "De stemming sluit {moment}.", "en": "Voting closes {moment}."},
    "vote.already_replace": {
        "nl": "U hebt al gestemd. Stemt u opnieuw, dan telt alleen uw laatste stem.",
        "en": "You have voted already. If you vote again, only your last ballot counts.",
    },
    "vote.already_final": {
        "nl": "U hebt al gestemd; in deze ronde kunt u uw stem niet wijzigen.",
        "en": "You have voted already; in this round you cannot change your ballot.",
    },
    "vote.residents_only": {
        "nl": "Alleen inwoners stemmen online. Ambtenaren voeren papieren stemmen in via Beheer.",
        "en": "Only residents vote online. Officials enter paper ballots under Manage.",
    },
    "vote.choose_area": {"nl": "Kies uw gebied", "en": "Choose your area"},
    "vote.budget_rule": {
        "nl": "Het budget is {budget}.",
        "en": "The budget is {budget}.",
    },
    "vote.within_budget": {
        "nl": "Kies projecten die samen niet meer kosten dan het budget.",
        "en": "Choose projects that together cost no more than the budget.",
    },
    "vote.projects_legend": {"nl": "Projecten voor {area}", "en": "Projects for {area}"},
    "vote.how_many": {
        "nl": "Kies er minstens {low} en hoogstens {high}.",
        "en": "Choose at least {low} and at most {high}.",
    },
    "vote.at_least": {"nl": "Kies er minstens {low}.", "en": "Choose at least {low}."},
    "vote.grades_hint": {
        "nl": "Geef elke optie een oordeel, of kies geen mening.",
        "en": "Give each option a grade, or choose no opinion.",
    },
    "vote.no_opinion": {"nl": "geen mening", "en": "no opinion"},
    "vote.ranking_hint": {
        "nl": "Geef elke optie die u wilt rangschikken een plaats; 1 is uw eerste keus.",
        "en": "Give each option you want to rank a place; 1 is your first choice.",
    },
    "vote.ranking_complete": {
        "nl": "Geef elke optie een plaats.",
        "en": "Give every option a place.",
    },
    "vote.ranking_ties": {
        "nl": "Opties mogen dezelfde plaats delen.",
        "en": "Options may share a place.",
    },
    "vote.unranked": {"nl": "geen plaats", "en": "no place"},
    "vote.place": {"nl": "plaats {place}", "en": "place {place}"},
    "vote.points_hint": {
        "nl": "Verdeel uw punten (in totaal {total}).",
        "en": "Share out your points ({total} in all).",
    },
    "vote.abstain": {"nl": "Ik stem blanco", "en": "I abstain"},
    "vote.total_ok": {
        "nl": "Gekozen: {spent} van {budget}; er is nog {left} over.",
        "en": "Chosen: {spent} of {budget}; {left} is left.",
    },
    "vote.total_over": {
        "nl": "Gekozen: {spent}, dat is {over} meer dan het budget van {budget}. Haal een project weg.",
        "en": "Chosen: {spent}, which is {over} over the {budget} budget. Remove a project.",
    },
    "vote.total_plain": {
        "nl": "Gekozen: {spent}; het budget is {budget}.",
        "en": "Chosen: {spent}; the budget is {budget}.",
    },
    "vote.cast": {"nl": "Stem uitbrengen", "en": "Cast your vote"},
    "voted.title": {"nl": "Uw stem is ontvangen", "en": "Your vote has been received"},
    "voted.thanks": {"nl": "Dank u wel voor het stemmen.", "en": "Thank you for voting."},
    "voted.replaced": {
        "nl": "Deze stem vervangt uw eerdere stem.",
        "en": "This ballot replaces your earlier one.",
    },
    "voted.receipt": {"nl": "Uw ontvangstcode", "en": "Your receipt code"},
    "voted.keep": {
        "nl": "Bewaar deze code. Daarmee controleert u later dat uw stem is geteld zoals u die uitbracht. De code verraadt niet wat u stemde.",
        "en": "Keep this code. With it you can later check that your ballot was counted as cast. The code does not reveal how you voted.",
    },
    "voted.cost": {"nl": "Uw keuze kost samen {cost}.", "en": "Your choice costs {cost} in all."},
    # ------------------------------------------------------------------ receipts
    "receipt.intro": {
        "nl": "Vul de ontvangstcode in die u kreeg toen u stemde.",
        "en": "Enter the receipt code you were given when you voted.",
    },
    "receipt.code": {"nl": "Ontvangstcode", "en": "Receipt code"},
    "receipt.code_hint": {
        "nl": "Bijvoorbeeld 8QQ-MJ0-1Z3-VX2-TK2-1RH-KK2. Hoofd- of kleine letters maakt niet uit.",
        "en": "For example 8QQ-MJ0-1Z3-VX2-TK2-1RH-KK2. Upper or lower case does not matter.",
    },
    "receipt.check": {"nl": "Controleren", "en": "Check"},
    "receipt.found": {"nl": "Gevonden", "en": "Found"},
    "receipt.status.counted": {
        "nl": "Uw stem telt zoals u die uitbracht.",
        "en": "Your ballot counts as you cast it.",
    },
    "receipt.status.pending": {
        "nl": "Uw papieren stem wacht op bevestiging door een tweede ambtenaar.",
        "en": "Your paper ballot waits for a second official to confirm its batch.",
    },
    "receipt.status.superseded": {
        "nl": "Deze stem is vervangen door een latere stem van u, die in plaats daarvan telt.",
        "en": "This ballot was replaced by a later ballot of yours, which counts instead.",
    },
    "receipt.status.discarded": {
        "nl": "De batch van deze papieren stem is afgekeurd; de stem telt niet.",
        "en": "This paper ballot's batch was rejected; it does not count.",
    },
    "receipt.round": {"nl": "Ronde", "en": "Round"},
    "receipt.channel": {"nl": "Uitgebracht", "en": "Cast"},
    "receipt.recorded": {"nl": "Vastgelegd", "en": "Recorded"},
    "receipt.merkle": {"nl": "Merkle-wortel", "en": "Merkle root"},
    "receipt.in_tree": {
        "nl": "opgenomen als stem {index} van {size}",
        "en": "included as ballot {index} of {size}",
    },
    "channel.online": {"nl": "online", "en": "online"},
    "channel.paper": {"nl": "op papier", "en": "on paper"},
    # ------------------------------------------------------------------ results
    "results.see": {"nl": "Bekijk de uitslag", "en": "See the result"},
    "results.title": {"nl": "Uitslag", "en": "Result"},
    "results.not_published": {
        "nl": "Nog niet gepubliceerd: alleen ambtenaren zien deze uitslag.",
        "en": "Not published yet: only officials see this result.",
    },
    "results.quorum_missed": {
        "nl": "Het quorum is niet gehaald: de uitslag is niet geldig.",
        "en": "The quorum was not met: the result is not valid.",
    },
    "results.ballots": {"nl": "Getelde stemmen: {count}.", "en": "Ballots counted: {count}."},
    "results.area_summary": {
        "nl": "Budget {budget}; toegekend {spent}; {ballots} stemmen.",
        "en": "Budget {budget}; funded {spent}; {ballots} ballots.",
    },
    "results.chart_title": {
        "nl": "Stemmen per project in {area}",
        "en": "Votes per project in {area}",
    },
    "results.chart_caption": {
        "nl": "Gestreepte balken met ✓ zijn projecten die geld krijgen. Onderaan: de kosten van die projecten tegen de budgetlijn.",
        "en": "Striped bars marked ✓ are funded projects. Below: what they cost together against the budget line.",
    },
    "results.table_caption": {"nl": "Projecten in {area}", "en": "Projects in {area}"},
    "results.project": {"nl": "Project", "en": "Project"},
    "results.votes": {"nl": "Stemmen", "en": "Votes"},
    "results.funded": {"nl": "Uitkomst", "en": "Outcome"},
    "results.method": {
        "nl": "Telmethode: {method}; {count} deelnemers.",
        "en": "Counting method: {method}; {count} participants.",
    },
    "results.grades_caption": {
        "nl": "Per optie hoe vaak elk oordeel werd gegeven, van slechtst (links) naar best.",
        "en": "For each option how often each grade was given, from worst (left) to best.",
    },
    "results.ranking_caption": {
        "nl": "De volgorde met de score van elke optie.",
        "en": "The ranking with each option's score.",
    },
    "results.grades_table": {"nl": "Oordelen: {question}", "en": "Grades: {question}"},
    "results.ranking_table": {"nl": "Volgorde: {question}", "en": "Ranking: {question}"},
    "results.option": {"nl": "Optie", "en": "Option"},
    "results.place": {"nl": "Plaats", "en": "Place"},
    "results.score": {"nl": "Score", "en": "Score"},
    "results.no_outcome": {
        "nl": "Voor deze vraag is geen uitkomst (te weinig deelname).",
        "en": "This question has no outcome (too few participants).",
    },
    "results.verify": {
        "nl": "Na te rekenen: Merkle-wortel {root}…",
        "en": "Recompute it yourself: Merkle root {root}…",
    },
    "results.download": {
        "nl": "Download de stemmen (geanonimiseerd)",
        "en": "Download the ballots (anonymised)",
    },
    "breakdown.title": {"nl": "Uitsplitsing", "en": "Breakdown"},
    "breakdown.intro": {
        "nl": "Groepen met minder dan {n} stemmers tonen we niet. Zodat zo'n groep niet uit "
        "het totaal min de andere groepen is af te leiden, verbergen we dan ook een of meer "
        "andere groepen. Er staat dan steeds „verborgen”: welke groep klein is, zeggen we "
        "niet, want ook dat kan een aantal verraden.",
        "en": "Groups of fewer than {n} voters are not shown. So that such a group cannot be "
        "worked out as the total minus the other groups, one or more other groups are then "
        "hidden too. Each reads “hidden”: which group is the small one is not said, as that "
        "too can give a number away.",
    },
    "breakdown.support_note": {
        "nl": "Steun: het aantal stemmers dat een project koos, of een optie als eerste "
        "rangschikte, goedkeurde of boven het midden van de schaal beoordeelde.",
        "en": "Support: the voters who chose a project, or ranked an option first, approved it "
        "or graded it above the middle of the scale.",
    },
    "breakdown.record_public": {
        "nl": "De gemeente publiceert ook alle stemmen (geanonimiseerd, zonder namen); wie die "
        "downloadt, kan elke groep zelf tellen.",
        "en": "The municipality also publishes every ballot (anonymised, without names); "
        "anyone who downloads them can count every group.",
    },
    "breakdown.no_age": {
        "nl": "Naar leeftijd splitsen we niet uit: een stem bewaart geen leeftijd.",
        "en": "There is no breakdown by age: a ballot keeps no age.",
    },
    "breakdown.no_area": {
        "nl": "Naar buurt splitsen we niet uit: in deze ronde bewaart een stem geen buurt.",
        "en": "There is no breakdown by neighbourhood: in this round a ballot keeps no area.",
    },
    "breakdown.one_channel": {
        "nl": "In deze ronde stemt iedereen op dezelfde manier.",
        "en": "In this round everyone votes the same way.",
    },
    "breakdown.nothing": {
        "nl": "Er is voor deze ronde niets uit te splitsen.",
        "en": "There is nothing to break down for this round.",
    },
    "breakdown.voters": {"nl": "Stemmers", "en": "Voters"},
    "breakdown.answered": {"nl": "Beantwoord", "en": "Answered"},
    "breakdown.support": {"nl": "Steun", "en": "Support"},
    "breakdown.group": {"nl": "Groep", "en": "Group"},
    "breakdown.by_area": {"nl": "buurt", "en": "neighbourhood"},
    "breakdown.by_channel": {"nl": "manier van stemmen", "en": "way of voting"},
    "breakdown.round_channels": {
        "nl": "Stemmers per manier van stemmen",
        "en": "Voters by way of voting",
    },
    "breakdown.area_channels": {
        "nl": "{area}: stemmers en steun per manier van stemmen",
        "en": "{area}: voters and support by way of voting",
    },
    "breakdown.voters_by": {"nl": "Stemmers per {dimension}", "en": "Voters by {dimension}"},
    "breakdown.question_by": {
        "nl": "{question}: steun per {dimension}",
        "en": "{question}: support by {dimension}",
    },
    "breakdown.hidden": {"nl": "verborgen", "en": "hidden"},
    "chart.support_heading": {"nl": "Stemmen per project", "en": "Votes per project"},
    "chart.budget_heading": {"nl": "Toegekend tegen het budget", "en": "Funded against the budget"},
    "chart.funded": {"nl": "krijgt geld", "en": "funded"},
    "chart.not_funded": {"nl": "geen geld", "en": "not funded"},
    "chart.votes": {"nl": "{count} stemmen", "en": "{count} votes"},
    "chart.budget_line": {"nl": "budget {budget}", "en": "budget {budget}"},
    "chart.spent": {"nl": "toegekend: {spent}", "en": "funded: {spent}"},
    "chart.budget.desc": {
        "nl": "{projects} projecten; {funded} krijgen geld, samen {spent} van het budget van {budget}.",
        "en": "{projects} projects; {funded} are funded, together {spent} of the {budget} budget.",
    },
    "chart.blank": {"nl": "geen mening", "en": "no opinion"},
    "chart.grades.desc": {
        "nl": "Oordelen over {options} opties op de schaal {grades}.",
        "en": "Grades given to {options} options on the scale {grades}.",
    },
    "chart.ranking.desc": {
        "nl": "Volgorde van {options} opties; eerste: {first}.",
        "en": "Ranking of {options} options; first: {first}.",
    },
    "chart.score": {"nl": "score {score}", "en": "score {score}"},
    # ------------------------------------------------------------------ officials
    "manage.title": {"nl": "Beheer van rondes", "en": "Managing rounds"},
    "manage.rounds": {"nl": "Alle rondes", "en": "All rounds"},
    "manage.instrument": {"nl": "Instrument", "en": "Instrument"},
    "manage.new_round": {"nl": "Nieuwe ronde", "en": "New round"},
    "manage.no_rule_sets": {
        "nl": "Er is nog geen gepubliceerd kader. Publiceer eerst een kader via de API.",
        "en": "There is no published rule set yet. Publish one through the API first.",
    },
    "manage.rule_set": {"nl": "Kader van de raad", "en": "The council's rule set"},
    "manage.rule_set_hint": {
        "nl": "De ronde legt de nieuwste gepubliceerde versie vast; die verandert daarna niet meer.",
        "en": "The round pins the latest published version; it never changes afterwards.",
    },
    "manage.version": {"nl": "versie {number}", "en": "version {number}"},
    "manage.areas": {"nl": "Gebieden en budgetten", "en": "Areas and budgets"},
    "manage.areas_hint": {
        "nl": "Eén gebied per regel: CBS-code; naam; budget in euro's. Bijvoorbeeld: WK026801; Oost; 50000",
        "en": "One area per line: CBS code; name; budget in euros. For example: WK026801; Oost; 50000",
    },
    "manage.area_line": {
        "nl": "Regel {line}: het budget is geen bedrag in euro's.",
        "en": "Line {line}: the budget is not an amount in euros.",
    },
    "manage.create": {"nl": "Ronde aanmaken", "en": "Create round"},
    "manage.public_page": {"nl": "Openbare pagina", "en": "Public page"},
    "manage.phase": {"nl": "Fasen", "en": "Phases"},
    "manage.move_to": {"nl": "Naar de fase: {phase}", "en": "Move to: {phase}"},
    "manage.save_areas": {"nl": "Gebieden opslaan", "en": "Save areas"},
    "manage.final_cost": {"nl": "Vastgestelde kosten (euro)", "en": "Final cost (euros)"},
    "manage.on_ballot": {"nl": "op het stembiljet als {code}", "en": "on the ballot as {code}"},
    "manage.accept": {"nl": "Goedkeuren", "en": "Accept"},
    "manage.reason": {
        "nl": "Reden van afwijzing (leesbaar voor de indiener)",
        "en": "Reason for rejection (the author reads it)",
    },
    "manage.reject": {"nl": "Afwijzen", "en": "Reject"},
    "manage.questions": {"nl": "Vragen", "en": "Questions"},
    "manage.question_key": {"nl": "Vraag", "en": "Question"},
    "manage.question_title": {"nl": "Vraagtekst", "en": "Question text"},
    "manage.options": {"nl": "Opties", "en": "Options"},
    "manage.options_hint": {
        "nl": "Eén optie per regel: sleutel; tekst. Bijvoorbeeld: a; Zoals nu",
        "en": "One option per line: key; text. For example: a; As it is",
    },
    "manage.add_question": {"nl": "Vraag toevoegen", "en": "Add question"},
    "paper.title": {"nl": "Papieren stemmen", "en": "Paper ballots"},
    "paper.intro": {
        "nl": "Voer papieren stemmen in per batch; een tweede ambtenaar bevestigt elke batch voordat die telt.",
        "en": "Enter paper ballots in batches; a second official confirms each batch before it counts.",
    },
    "paper.batch": {"nl": "Batch", "en": "Batch"},
    "paper.ballots": {"nl": "Stemmen", "en": "Ballots"},
    "paper.actions": {"nl": "Acties", "en": "Actions"},
    "paper.entered_by": {"nl": "ingevoerd door {name}", "en": "entered by {name}"},
    "paper.confirmed_by": {"nl": "bevestigd door {name}", "en": "confirmed by {name}"},
    "paper.enter": {"nl": "Stemmen invoeren", "en": "Enter ballots"},
    "paper.confirm": {"nl": "Batch bevestigen", "en": "Confirm batch"},
    "paper.label": {"nl": "Naam van de batch", "en": "Batch name"},
    "paper.label_hint": {
        "nl": "Bijvoorbeeld: stembureau Wijkcentrum, doos 3",
        "en": "For example: polling station Wijkcentrum, box 3",
    },
    "paper.label_needed": {"nl": "Geef de batch een naam.", "en": "Give the batch a name."},
    "paper.reject_reason": {"nl": "Reden om af te keuren", "en": "Reason to reject"},
    "paper.reject": {"nl": "Batch afkeuren", "en": "Reject batch"},
    "paper.reason_needed": {
        "nl": "Geef de reden waarom de batch wordt afgekeurd.",
        "en": "Give the reason the batch is rejected.",
    },
    "paper.open": {"nl": "Batch openen", "en": "Open batch"},
    "paper.count": {"nl": "{count} stemmen in deze batch", "en": "{count} ballots in this batch"},
    "paper.voter": {
        "nl": "Kiezer (nummer uit het register)",
        "en": "Voter (number from the register)",
    },
    "paper.voter_hint": {
        "nl": "Wordt alleen als pseudoniem bewaard.",
        "en": "Stored only as a pseudonym.",
    },
    "paper.voter_needed": {"nl": "Vul het kiezersnummer in.", "en": "Fill in the voter's number."},
    "paper.add": {"nl": "Stem toevoegen", "en": "Add ballot"},
    "paper.entered": {
        "nl": "De stem is ingevoerd; hij telt zodra een tweede ambtenaar de batch bevestigt.",
        "en": "The ballot is entered; it counts once a second official confirms the batch.",
    },
    "batch.open": {"nl": "open", "en": "open"},
    "batch.confirmed": {"nl": "bevestigd", "en": "confirmed"},
    "batch.rejected": {"nl": "afgekeurd", "en": "rejected"},
    "team.title": {"nl": "Team van de ronde", "en": "The round's team"},
    "team.round_team": {
        "nl": "Volgens het kader van de raad ({reference}) werken alleen het team van deze ronde en beheerders eraan.",
        "en": "Under the council's rule set ({reference}) only this round's team and administrators act on it.",
    },
    "team.any_official": {
        "nl": "Volgens het kader van de raad ({reference}) mag elke ambtenaar aan deze ronde werken; er is geen team.",
        "en": "Under the council's rule set ({reference}) every official may act on this round; it has no team.",
    },
    "team.members": {"nl": "Teamleden", "en": "Team members"},
    "team.creator": {"nl": "maakte de ronde aan", "en": "created the round"},
    "team.added_by": {"nl": "toegevoegd door {name}, {when}", "en": "added by {name}, {when}"},
    "team.you": {"nl": "u", "en": "you"},
    "team.remove": {"nl": "Uit het team halen", "en": "Take off the team"},
    "team.add": {"nl": "Ambtenaar toevoegen", "en": "Add an official"},
    "team.subject": {"nl": "Gebruikersnaam van de ambtenaar", "en": "The official's user name"},
    "team.subject_hint": {
        "nl": "Zoals bij het inloggen (bijvoorbeeld j.devries). Het team en beheerders kunnen het team wijzigen; elke wijziging komt in het auditlog.",
        "en": "As used to sign in (for example j.devries). The team and administrators can change the team; every change goes into the audit log.",
    },
    "team.published": {
        "nl": "De uitslag is gepubliceerd; het team verandert niet meer.",
        "en": "The result is published; the team no longer changes.",
    },
    "team.outsider": {
        "nl": "U kunt deze ronde bekijken, maar niet wijzigen: u hoort niet bij het team.",
        "en": "You can see this round but not change it: you are not on its team.",
    },
    "team.see": {"nl": "Wie er in het team zit", "en": "Who is on the team"},
    "whatif.title": {"nl": "Wat als…?", "en": "What if…?"},
    "whatif.intro": {
        "nl": "Tel dezelfde stemmen met een andere regel en zie wat er anders zou zijn. De vastgestelde uitslag verandert niet.",
        "en": "Count the same ballots under another rule and see what would change. The stored result does not change.",
    },
    "whatif.rule": {"nl": "Regel", "en": "Rule"},
    "whatif.run": {"nl": "Vergelijken", "en": "Compare"},
    "whatif.outcome": {"nl": "{rule} naast {stored}", "en": "{rule} beside {stored}"},
    "whatif.changes": {"nl": "De uitkomst zou anders zijn.", "en": "The outcome would differ."},
    "whatif.same": {"nl": "De uitkomst zou gelijk zijn.", "en": "The outcome would be the same."},
    "whatif.stored": {"nl": "Vastgesteld", "en": "Stored"},
    "whatif.would": {"nl": "Met deze regel", "en": "Under this rule"},
    "whatif.newly": {"nl": "Erbij", "en": "Newly funded"},
    "whatif.no_longer": {"nl": "Eraf", "en": "No longer funded"},
    "whatif.never_changes": {
        "nl": "Een vergelijking verandert nooit de vastgestelde of gepubliceerde uitslag.",
        "en": "A comparison never changes the stored or published result.",
    },
    "table.scroll": {
        "nl": "Tabel, schuift opzij op smalle schermen",
        "en": "Table, scrolls sideways on narrow screens",
    },
    "chart.vote_one": {"nl": "1 stem", "en": "1 vote"},
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
        if candidate is not None and candidate in LANGUAGES:
            return candidate
    if accept_language and accept_language.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE
