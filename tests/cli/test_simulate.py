"""`siaga112 simulate`: a seeded plan that looks like Indonesian 112 traffic, sent to a live server."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from siaga112.calls.schemas import TRANSFER_TARGETS
from siaga112.classify.engine import Classifier
from siaga112.geo.gazetteer import default_gazetteer
from siaga112.models import calls
from siaga112.phone import normalise_phone
from siaga112.simulate import DECK_SIZE, DEFAULT_MIX, OUTCOMES, build_plan, parse_mix, run_simulation
from siaga112.sop.loader import default_sop_path, load_sop

SIAGA112 = Path(sys.executable).parent / "siaga112"
API = "/api/v1"


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA112_")}
    env["SIAGA112_VAR_DIR"] = str(tmp_path / "var")
    return env


def _fingerprint(plan) -> list[tuple]:
    return [(p.at, p.outcome, p.body, p.of, p.type_code) for p in plan]


def _planned_outcomes(*plans) -> Counter:
    return Counter(p.outcome for plan in plans for p in plan)


# --- the plan, without a server ---------------------------------------------------------------


def test_the_same_seed_gives_the_same_traffic():
    first = build_plan(rate=40, duration=5, seed=5)
    assert _fingerprint(first) == _fingerprint(build_plan(rate=40, duration=5, seed=5))
    assert _fingerprint(first) != _fingerprint(build_plan(rate=40, duration=5, seed=6))
    assert len(first) == 200 and all(0 <= p.at < 5 for p in first)
    assert [p.at for p in first] == sorted(p.at for p in first)


def test_the_plan_looks_like_indonesian_112_traffic():
    plan = build_plan(rate=500, duration=4, seed=3)
    assert len(plan) == 2000
    dealt = [p.outcome for p in plan if p.outcome != "duplicate"]
    counts = Counter(dealt)
    # Shares are exact over each deck of 50, so only the last, partial deck can stray.
    full_decks = len(dealt) // DECK_SIZE
    for outcome, share in DEFAULT_MIX.items():
        quota = share * DECK_SIZE
        assert full_decks * int(quota) <= counts[outcome] <= (full_decks + 1) * (int(quota) + 1), outcome
    assert counts["prank"] + counts["silent"] > 0.65 * len(dealt)  # most 112 calls are not emergencies

    gaz = default_gazetteer()
    emergencies = [p for p in plan if p.outcome == "emergency"]
    duplicates = [p for p in plan if p.outcome == "duplicate"]
    # 30 % of emergencies get a second caller, less those due after the run ends.
    assert 0.1 * len(emergencies) < len(duplicates) < 0.4 * len(emergencies)
    for dup in duplicates:
        assert plan[dup.of].outcome == "emergency" and plan[dup.of].at < dup.at
    typed = [p for p in emergencies if "type_code" in p.body]
    assert 0.1 * len(emergencies) < len(typed) < 0.3 * len(emergencies)
    assert len({p.type_code for p in emergencies}) >= 15

    modes = Counter()
    for p in emergencies:
        loc = p.body["location"]
        if "lat" in loc:
            modes["point"] += 1
            located = gaz.locate(loc["lat"], loc["lon"])
            assert located.inside_regency and located.distance_m == 0
        elif "desa_code" in loc:
            modes["desa"] += 1
            assert gaz.place(loc["desa_code"]).level == "desa"
        else:
            modes["address"] += 1
            assert gaz.match_address(loc["address"]).level == "desa"
    assert modes["point"] > 0.6 * len(emergencies) and modes["desa"] and modes["address"]

    phones = Counter()
    for p in plan:
        if "caller" in p.body:
            phone = normalise_phone(p.body["caller"]["phone"])
            assert phone.startswith("+628")
            phones[phone] += 1
    assert max(phones.values()) >= 20  # the busiest prankster
    pranksters = Counter(normalise_phone(p.body["caller"]["phone"]) for p in plan
                         if p.outcome == "prank" and "caller" in p.body)
    assert sum(n for n in pranksters.values() if n > 1) > 0.4 * sum(pranksters.values())
    assert any("caller" not in p.body for p in plan if p.outcome == "silent")  # withheld numbers
    for p in plan:
        if p.outcome == "out_of_area":
            assert p.body["transferred_to"] in TRANSFER_TARGETS

    # Descriptions a call-taker would type, which the packaged classifier reads correctly.
    classifier = Classifier(load_sop(default_sop_path()).incident_types.values())
    untyped = [p for p in emergencies if "type_code" not in p.body]
    right = sum(classifier.classify(p.body["description"]).type_code == p.type_code for p in untyped)
    assert right >= 0.9 * len(untyped)


def test_the_mix_is_configurable_and_checked():
    # Percent; the outcomes not named keep their default share (Jakarta: 23 % pranks).
    assert parse_mix("prank=23, emergency=8") == pytest.approx(
        {k: v / (1 - 0.35 + 0.23) for k, v in {**DEFAULT_MIX, "prank": 0.23}.items()})
    only_emergencies = build_plan(rate=10, duration=3, seed=1, mix={"emergency": 1})
    assert {p.outcome for p in only_emergencies} <= {"emergency", "duplicate"}
    rare = build_plan(rate=1000, duration=1, seed=1, mix={**DEFAULT_MIX, "out_of_area": 0.001})
    assert 1 <= sum(p.outcome == "out_of_area" for p in rare) <= 2
    for bad in ("robbery=3", "prank", "prank=lots"):
        with pytest.raises(ValueError):
            parse_mix(bad)
    with pytest.raises(ValueError):
        build_plan(rate=10, duration=1, seed=1, mix={k: 0 for k in DEFAULT_MIX})
    with pytest.raises(ValueError):
        build_plan(rate=0, duration=10, seed=1)
    with pytest.raises(ValueError, match="more than"):
        build_plan(rate=10_000, duration=3_600, seed=1)


def test_simulation_stops_when_no_server_listens():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    summary = run_simulation(url=f"http://127.0.0.1:{port}", token="s112_x", rate=50, duration=30,
                             seed=1)
    assert "stopped early: cannot connect to the server" in summary
    assert "ConnectError" in summary and "incidents created: 0" in summary


# --- against a live server ----------------------------------------------------------------------


def test_simulated_traffic_is_recorded_and_routed(live_server, tokens, ctx, tmp_path):
    ct = {"Authorization": f"Bearer {tokens['call_taker']}"}
    boss = {"Authorization": f"Bearer {tokens['commander']}"}
    # The command runs beside the library against the same server, with a heavier share of
    # emergencies so that its few requests include a typed one and a second caller (seed 31).
    cli = subprocess.Popen([str(SIAGA112), "simulate", "--rate", "5", "--duration", "2", "--seed", "31",
                            "--mix", "emergency=40", "--url", live_server, "--token", tokens["call_taker"]],
                           env=_clean_env(tmp_path), cwd=tmp_path, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    summary = run_simulation(url=live_server, token=tokens["call_taker"], rate=20, duration=3, seed=1)
    out, err = cli.communicate(timeout=60)
    assert "HTTP errors: none" in summary, summary
    assert cli.returncode == 0 and "HTTP errors: none" in out, out + err

    plans = (build_plan(rate=20, duration=3, seed=1),
             build_plan(rate=5, duration=2, seed=31, mix=parse_mix("emergency=40")))
    first = _planned_outcomes(plans[0])
    assert "sent: " + ", ".join(f"{k} {first[k]}" for k in (*OUTCOMES, "duplicate") if first[k]) in summary
    with ctx.db.transaction(write=False) as conn:
        recorded = dict(conn.execute(select(calls.c.outcome, func.count()).group_by(calls.c.outcome)).all())
        busiest = conn.execute(select(calls.c.caller_phone, func.count().label("n"))
                               .where(calls.c.caller_phone.is_not(None))
                               .group_by(calls.c.caller_phone)
                               .order_by(func.count().desc(), calls.c.caller_phone).limit(1)).one()
        linked = conn.execute(select(calls.c.incident_id)
                              .where(calls.c.outcome == "duplicate")).scalars().all()
    # Every planned call arrived once: nothing lost, nothing doubled.
    assert recorded == dict(_planned_outcomes(*plans))
    assert set(recorded) == {*OUTCOMES, "duplicate"}

    emergencies = [p for plan in plans for p in plan if p.outcome == "emergency"]
    assert any(p.typed for p in emergencies) and any(not p.typed for p in emergencies)
    with httpx.Client(base_url=live_server, trust_env=False) as client:
        history = client.get(f"{API}/callers/{busiest.caller_phone}", headers=ct).json()
        assert busiest.n >= 2 and sum(history["outcome_counts"].values()) == busiest.n

        items = client.get(f"{API}/incidents", params={"limit": 500}, headers=boss).json()["items"]
        assert len(items) == len(emergencies) and len({i["type_code"] for i in items}) >= 3
        for incident in items:
            itype = ctx.sop.incident_types[incident["type_code"]]
            assert [(a["agency_code"], a["role"]) for a in incident["assignments"]] == [
                (itype.lead, "lead"), *((s, "support") for s in itype.support)]
            assert incident["desa_code"] and not incident["location"]["out_of_area"]
            sent = [p for p in emergencies if p.body["description"] == incident["description"]]
            if all(p.typed for p in sent):
                assert incident["type_code"] == sent[0].type_code
            elif not any(p.typed for p in sent):
                assert incident["type_code"] in (incident["classification"]["type_code"], "OTHER")

        for incident_id in linked:
            timeline = client.get(f"{API}/incidents/{incident_id}", headers=boss).json()["timeline"]
            assert any(t["kind"] == "caller_linked" for t in timeline)

    refused = run_simulation(url=live_server, token="s112_not-a-token", rate=20, duration=30, seed=1)
    assert "stopped early: the server refused the token (401" in refused
