"""The téléexpertise pages for each party, logged in with TOTP like a browser would."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import update

from telesante.db import transaction, utcnow
from telesante.patients.models import Patient
from telesante.runtime import Runtime
from telesante.teleexpertise.models import ExpertRequest
from tests.fixtures.world import Person, World
from tests.security.test_pages import login_with_totp
from tests.teleexpertise.conftest import ANSWER, Team, created, pool_of
from tests.web.test_login_and_pages import field


@asynccontextmanager
async def browsing(app: FastAPI, runtime: Runtime, person: Person) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as client:
        await login_with_totp(client, runtime, person)
        yield client


def listed(html: str, table: str) -> list[str]:
    """The request ids of one table of the inbox page, in the order shown."""
    section = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'data-request="([^"]+)"', section)


async def test_the_inbox_lists_requests_by_due_time_with_time_left_and_risk(
    app: FastAPI, runtime: Runtime, client: AsyncClient, team: Team
) -> None:
    normal = await created(client, team)
    urgent = await created(client, team, urgency="urgent")
    late = await created(client, team)
    async with transaction(runtime.sessionmaker) as db:
        await db.execute(
            update(ExpertRequest)
            .where(ExpertRequest.id == late["id"])
            .values(due_at=utcnow() + timedelta(hours=2))
        )
    async with browsing(app, runtime, team.expert) as expert:
        inbox = await expert.get("/teleexpertise")
    assert inbox.status_code == 200
    assert listed(inbox.text, "inbox") == [late["id"], urgent["id"], normal["id"]]
    assert inbox.text.count("à risque") == 1 and "Nouvelle demande" in inbox.text
    assert re.search(r"1 h 5\d restantes", inbox.text), "time left, in words"
    assert 'href="/teleexpertise">Téléexpertise</a>' in inbox.text  # the nav link
    async with browsing(app, runtime, team.requester) as requester:
        mine = await requester.get("/teleexpertise")
    assert listed(mine.text, "sent") == [late["id"], urgent["id"], normal["id"]]
    assert "envoyée" in mine.text and "Lésion pigmentée du dos" in mine.text


async def test_each_party_sees_the_request_as_its_role_allows(
    app: FastAPI, runtime: Runtime, client: AsyncClient, team: Team
) -> None:
    asked = await created(client, team)
    url = f"/teleexpertise/{asked['id']}"
    async with browsing(app, runtime, team.requester) as requester:
        page = await requester.get(url)
        assert "Marie DURAND" in page.text and "Lésion pigmentée du dos" in page.text
        assert "Réattribuer" in page.text and "Clôturer la demande" in page.text
        assert "Signer et envoyer l'avis" not in page.text and "Prendre en charge" not in page.text
    async with browsing(app, runtime, team.expert) as expert:
        page = await expert.get(url)
        assert "Signer et envoyer l'avis" in page.text and "Poser une question au demandeur" in page.text
        assert "Réattribuer" not in page.text
    async with browsing(app, runtime, team.outsider) as outsider:
        assert (await outsider.get(url)).status_code == 404
        assert asked["id"] not in (await outsider.get("/teleexpertise")).text


async def test_a_pool_member_claims_from_the_page_and_the_colleague_loses_sight(
    app: FastAPI, runtime: Runtime, client: AsyncClient, team: Team
) -> None:
    url = f"/teleexpertise/{(await created(client, team, expert_ids=[], pool=pool_of(team)))['id']}"
    async with browsing(app, runtime, team.pool[0]) as member:
        page = await member.get(url)
        assert "Prendre en charge" in page.text and "Signer et envoyer l'avis" not in page.text
        claimed = await member.post(f"{url}/prendre", data={"csrf_token": field(page.text, "csrf_token")})
        assert claimed.status_code == 303
        assert "Signer et envoyer l'avis" in (await member.get(url)).text
    async with browsing(app, runtime, team.pool[1]) as late:
        assert (await late.get(url)).status_code == 404  # claimed by a colleague: no longer theirs


async def test_question_reply_and_answer_through_the_forms(
    app: FastAPI, runtime: Runtime, client: AsyncClient, team: Team
) -> None:
    url = f"/teleexpertise/{(await created(client, team))['id']}"
    async with browsing(app, runtime, team.expert) as expert:
        csrf = field((await expert.get(url)).text, "csrf_token")
        asked = await expert.post(f"{url}/message", data={"csrf_token": csrf, "body": "Depuis quand ?"})
        assert asked.status_code == 303
        short = await expert.post(
            f"{url}/avis", data={"csrf_token": csrf, "opinion": "court", "management": "", "see_patient": "x"}
        )
        assert short.status_code == 422 and "complétez" in short.text and "Depuis quand ?" in short.text
    async with browsing(app, runtime, team.requester) as requester:
        csrf = field((await requester.get(url)).text, "csrf_token")
        await requester.post(f"{url}/message", data={"csrf_token": csrf, "body": "Trois mois."})
    async with browsing(app, runtime, team.expert) as expert:
        page = await expert.get(url)
        assert "Trois mois." in page.text
        done = await expert.post(f"{url}/avis", data={"csrf_token": field(page.text, "csrf_token"), **ANSWER})
        assert done.status_code == 303
    async with browsing(app, runtime, team.requester) as requester:
        page = await requester.get(url)
    assert ANSWER["opinion"] in page.text and "à voir rapidement" in page.text
    assert "/report.pdf\">Compte rendu de l'avis (PDF)</a>" in page.text
    assert "clôturée" in page.text and "Envoyer le message" not in page.text
    async with browsing(app, runtime, team.expert) as expert:
        again = await expert.post(f"{url}/avis", data={"csrf_token": csrf, **ANSWER})
    assert again.status_code in (403, 409)  # refused, not a 500


async def test_a_form_without_the_csrf_token_is_refused(
    app: FastAPI, runtime: Runtime, client: AsyncClient, team: Team
) -> None:
    url = f"/teleexpertise/{(await created(client, team))['id']}"
    async with browsing(app, runtime, team.expert) as expert:
        refused = await expert.post(f"{url}/message", data={"body": "Sans jeton"})
        assert refused.status_code == 403
        forged = await expert.post(f"{url}/message", data={"body": "Faux jeton", "csrf_token": "x" * 32})
        assert forged.status_code == 403
        assert "Sans jeton" not in (await expert.get(url)).text


async def test_the_requester_records_consent_then_sees_the_experts(
    app: FastAPI, runtime: Runtime, world: World, team: Team
) -> None:
    other = await world.patient(team.requester, family="Petit", given="Louis", sex="M")
    assert isinstance(other, Patient)
    other_id = other.id
    async with browsing(app, runtime, team.requester) as requester:
        chooser = await requester.get("/teleexpertise/nouvelle", params={"patient_q": "Petit"})
        assert "Louis PETIT" in chooser.text and "Marie DURAND" not in chooser.text
        page = await requester.get("/teleexpertise/nouvelle", params={"patient_id": other_id})
        assert "Aucun consentement à la téléexpertise" in page.text and 'id="te-new-form"' not in page.text
        recorded = await requester.post(
            "/teleexpertise/nouvelle/consentement",
            data={"csrf_token": field(page.text, "csrf_token"), "patient_id": other_id, "agreed": "oui"},
        )
        assert recorded.status_code == 303
        assert recorded.headers["location"] == f"/teleexpertise/nouvelle?patient_id={other_id}"
        page = await requester.get("/teleexpertise/nouvelle", params={"patient_id": other_id, "q": "Expert"})
    assert "Consentement à la téléexpertise enregistré" in page.text
    assert (
        'id="te-new-form"' in page.text and "Claire Expert" in page.text and "Claire Second" not in page.text
    )
    assert "Dermatologie — CHU de Lyon" in page.text  # the pool
    async with browsing(app, runtime, team.outsider) as outsider:
        assert (
            await outsider.get("/teleexpertise/nouvelle", params={"patient_id": other_id})
        ).status_code == 404


async def test_the_requester_reassigns_then_cancels_from_the_page(
    app: FastAPI, runtime: Runtime, client: AsyncClient, team: Team
) -> None:
    url = f"/teleexpertise/{(await created(client, team))['id']}"
    assert team.second.professional is not None
    async with browsing(app, runtime, team.requester) as requester:
        page = await requester.get(url)
        assert "Gérer la demande" in page.text
        csrf = field(page.text, "csrf_token")
        given = await requester.post(
            f"{url}/reassigner", data={"csrf_token": csrf, "expert_id": team.second.professional.id}
        )
        assert given.status_code == 303
    async with browsing(app, runtime, team.second) as second:
        assert (await second.get(url)).status_code == 200  # the new expert now sees it
    async with browsing(app, runtime, team.expert) as replaced:
        page = await replaced.get(url)  # still shown to them (ADR 0010), so the refusal is clear
        token = field(page.text, "csrf_token")
        refused = await replaced.post(f"{url}/avis", data={"csrf_token": token, **ANSWER})
        assert refused.status_code == 409  # the replaced expert cannot answer any more
    async with browsing(app, runtime, team.requester) as requester:
        csrf = field((await requester.get(url)).text, "csrf_token")
        assert (await requester.post(f"{url}/annuler", data={"csrf_token": csrf})).status_code == 303
        page = await requester.get(url)
        assert "annulée" in page.text and "Gérer la demande" not in page.text
    async with browsing(app, runtime, team.second) as second:
        page = await second.get(url)
        late = await second.post(f"{url}/avis", data={"csrf_token": field(page.text, "csrf_token"), **ANSWER})
        assert late.status_code == 409 and "annulée" in late.text
