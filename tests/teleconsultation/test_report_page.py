"""The compte rendu page: template, draft, a signature refused without conclusion, then locked."""

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from telesante.runtime import Runtime
from tests.fixtures.world import World
from tests.security.test_pages import login_with_totp
from tests.teleconsultation.conftest import Practice
from tests.teleconsultation.test_report import SECTIONS, held_call
from tests.web.test_login_and_pages import field


async def post(client: AsyncClient, url: str, **form: str) -> tuple[int, str]:
    """Post the editor form as the browser does, with the CSRF token from the page."""
    shown = await client.get(url)
    sent = await client.post(url, data={"csrf_token": field(shown.text, "csrf_token"), **form})
    if sent.status_code == 303:
        return 303, (await client.get(sent.headers["location"])).text
    return sent.status_code, sent.text


async def test_write_from_a_template_save_refuse_then_sign_and_lock(
    app: FastAPI, client: AsyncClient, world: World, runtime: Runtime, practice: Practice
) -> None:
    me, appointment_id = await held_call(client, world, runtime, practice)
    url = f"/teleconsultations/{appointment_id}/compte-rendu"
    await login_with_totp(client, runtime, practice.doctor)
    appointment = await client.get(f"/teleconsultations/{appointment_id}")
    assert f'href="{url}"' in appointment.text
    assert f'href="/teleconsultations/{appointment_id}/ordonnance"' in appointment.text
    editor = await client.get(url)
    assert (
        editor.status_code == 200 and 'name="motif"' in editor.text and "Signer et verrouiller" in editor.text
    )

    status, shown = await post(client, url, action="modele", template="renouvellement", motif="Suivi HTA")
    assert status == 303 and "Modèle appliqué" in shown
    assert ">Suivi HTA</textarea>" in shown  # what was typed stays
    assert ">Traitement bien toléré.</textarea>" in shown and ">Pathologie stable.</textarea>" in shown
    status, shown = await post(client, url, action="modele", template="inconnu")
    assert status == 422 and "modèle de compte rendu inconnu" in shown

    no_conclusion = {**SECTIONS, "conclusion": ""}
    status, shown = await post(client, url, action="signer", **no_conclusion)
    assert status == 409 and "la conclusion est obligatoire pour signer" in shown
    assert ">Toux depuis 5 jours</textarea>" in shown and "Signé et verrouillé" not in shown
    status, shown = await post(client, url, action="brouillon", **SECTIONS)
    assert (
        status == 303 and "Brouillon enregistré." in shown and ">Bronchite aiguë probable</textarea>" in shown
    )

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as patient:
        await login_with_totp(patient, runtime, me)
        draft = await patient.get(url)
        assert draft.status_code == 404 and "Bronchite" not in draft.text  # never the draft
        assert (await patient.get(f"{url}/lien")).text == ""

        status, shown = await post(client, url, action="signer", **SECTIONS)
        assert status == 303 and "Signé et verrouillé" in shown and "<textarea" not in shown
        assert "Marie DURAND" in shown and "Reconnexion" in shown and "ICE restart" in shown
        assert f'href="/api/teleconsultations/{appointment_id}/report.pdf"' in shown
        status, shown = await post(client, url, action="brouillon", **{**SECTIONS, "conclusion": "autre"})
        assert status == 409 and "ne peut plus être modifié" in shown

        mine = await patient.get(url)
        assert mine.status_code == 200 and "Bronchite aiguë probable" in mine.text
        assert "<textarea" not in mine.text and "Signer et verrouiller" not in mine.text
        assert f'href="{url}"' in (await patient.get(f"{url}/lien")).text
        assert f'hx-get="{url}/lien"' in (await patient.get(f"/teleconsultations/{appointment_id}")).text
        pdf = await patient.get(f"/api/teleconsultations/{appointment_id}/report.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        refused = await patient.post(url, data={"csrf_token": field(mine.text, "csrf_token"), **SECTIONS})
        assert refused.status_code == 403


async def test_a_write_without_the_csrf_token_is_refused(
    client: AsyncClient, world: World, runtime: Runtime, practice: Practice
) -> None:
    _, appointment_id = await held_call(client, world, runtime, practice)
    await login_with_totp(client, runtime, practice.doctor)
    url = f"/teleconsultations/{appointment_id}/compte-rendu"
    forged = await client.post(url, data={"action": "brouillon", **SECTIONS})
    assert forged.status_code == 403
    assert ">Toux depuis 5 jours</textarea>" not in (await client.get(url)).text
