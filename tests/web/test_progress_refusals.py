"""A progress status that is not one (a forged form, a partner's typo) is refused with the choices
spelled as the API spells them, on the console and through the API alike."""
from __future__ import annotations

import pytest

API = "/api/v1"
CHOICES = "'en_route', 'on_scene' or 'completed'"


@pytest.mark.parametrize("status", ["flying", "acknowledged"])
def test_an_unknown_progress_names_the_choices_as_sent(browse, actors, incident_body, status):
    fire = actors["call_taker"].post(f"{API}/incidents", json=incident_body()).json()
    by_api = actors["damkar"].post(f"{API}/incidents/{fire['id']}/assignments/DAMKAR/progress",
                                   json={"status": status})
    by_console = browse("damkar").post(f"/konsol/insiden/{fire['id']}/progres", {"status": status})
    for response in (by_api, by_console):
        assert response.status_code == 422, response.text
        [problem] = response.json()["detail"]
        assert problem["loc"] == ["body", "status"]
        # Not Python's spelling of an enum member ("<AssignmentStatus.EN_ROUTE: 'en_route'>").
        assert CHOICES in problem["msg"], problem["msg"]
        assert "AssignmentStatus" not in response.text
