"""The command centre sees warnings received from BMKG that touch PPU and announces one to the
public in one step; a second press changes nothing."""
from __future__ import annotations

from defusedxml import ElementTree as SafeET

from cap_samples import SEPAKU_BOX, cap
from siaga112.alerts.incoming import parse, store


def test_the_command_centre_announces_a_warning_in_one_step(ctx, browse):
    with ctx.db.transaction() as conn:
        store(ctx, conn, parse(ctx, SafeET.fromstring(
            cap("W-6", headline="Hujan lebat di Sepaku", area="Sepaku", polygon=SEPAKU_BOX))))
    commander = browse("commander")
    summary = commander.get("/konsol/komando/ringkasan").text
    assert "Hujan lebat di Sepaku" in summary and "Umumkan ke warga" in summary
    warning_id = summary.split("/konsol/komando/peringatan-masuk/")[1].split("/")[0]
    done = commander.post(f"/konsol/komando/peringatan-masuk/{warning_id}/lokal")
    assert done.status_code == 200 and "Peringatan lokal dibuat" in done.text
    # A second press (a double click that got through) changes nothing.
    assert commander.post(f"/konsol/komando/peringatan-masuk/{warning_id}/lokal").status_code == 409
    assert "sudah diumumkan" in commander.get("/konsol/komando/ringkasan").text
    # A viewer of everything sees the warning but has no button.
    viewer = browse("viewer").get("/konsol/komando/ringkasan").text
    assert "Hujan lebat di Sepaku" in viewer and "Umumkan ke warga" not in viewer


def test_the_warning_area_is_on_the_command_map(ctx, browse):
    with ctx.db.transaction() as conn:
        store(ctx, conn, parse(ctx, SafeET.fromstring(
            cap("W-7", headline="Hujan lebat di Sepaku", area="Sepaku", polygon=SEPAKU_BOX))))
    features = browse("commander").get("/konsol/peta/insiden.json").json()["features"]
    [warning] = [f for f in features if f["properties"]["kind"] == "warning"]
    assert warning["geometry"]["type"] == "Polygon"
    assert warning["geometry"]["coordinates"][0][0] == [116.75, -0.95]  # lon, lat
    # An agency's map shows its own work only.
    agency = browse("damkar").get("/konsol/peta/insiden.json").json()["features"]
    assert not [f for f in agency if f["properties"]["kind"] == "warning"]
