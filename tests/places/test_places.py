"""Landmarks and the call-taker's search box: administrators keep the list, everyone finds places."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from siaga112.models import landmarks
from siaga112.places.service import DEMO_LANDMARKS

API = "/api/v1"
SIAGA112 = Path(sys.executable).parent / "siaga112"
MOSQUE = {"kind": "mosque", "name": "Masjid Al-Ikhlas", "lat": -1.2553, "lon": 116.7664,
          "aliases": ["Masjid Ikhlas"]}


def count(ctx) -> int:
    with ctx.db.transaction(write=False) as conn:
        return conn.execute(select(func.count()).select_from(landmarks)).scalar_one()


def search(actor, q, **params):
    r = actor.get(f"{API}/places/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return r.json()


def test_admin_keeps_landmarks_and_the_search_box_sees_changes_at_once(actors):
    admin, ct = actors["admin"], actors["call_taker"]
    r = admin.post(f"{API}/landmarks", json=MOSQUE)
    assert r.status_code == 201, r.text
    mosque = r.json()
    assert mosque["desa_code"] == "64.09.01.1011" and mosque["kecamatan_code"] == "64.09.01"
    hit = search(ct, "masjid al ikhlas")[0]
    assert (hit["kind"], hit["name"], hit["id"]) == ("mosque", "Masjid Al-Ikhlas", str(mosque["id"]))
    assert hit["desa_name"] == "Penajam" and hit["kecamatan_name"] == "Penajam" and hit["score"] == 100
    # Same kind and name in the same desa: refused; a misplaced point: refused, naming the field.
    assert admin.post(f"{API}/landmarks", json=MOSQUE).json()["detail"][0]["loc"] == ["body", "name"]
    far = admin.post(f"{API}/landmarks", json={**MOSQUE, "name": "Monas", "lat": -6.175, "lon": 106.827})
    assert far.status_code == 422 and far.json()["detail"][0]["loc"] == ["body", "lat"]
    assert admin.post(f"{API}/landmarks", json={**MOSQUE, "kind": "castle"}).status_code == 422
    # Moving it to Sepaku finds its new desa; the search answers with the new place.
    moved = admin.client.patch(f"{API}/landmarks/{mosque['id']}", headers=admin.headers,
                               json={"lat": -0.8493, "lon": 116.7190})
    assert moved.status_code == 200 and moved.json()["desa_code"] == "64.09.04.1005"
    assert search(ct, "masjid ikhlas")[0]["kecamatan_name"] == "Sepaku"
    # Only administrators change the list; everyone on staff reads it.
    assert ct.post(f"{API}/landmarks", json={**MOSQUE, "name": "Lain"}).status_code == 403
    assert actors["damkar"].get(f"{API}/landmarks").status_code == 200
    assert admin.client.delete(f"{API}/landmarks/{mosque['id']}", headers=admin.headers).status_code == 204
    assert all(h["kind"] != "mosque" for h in search(ct, "masjid al ikhlas"))
    assert admin.get(f"{API}/landmarks/{mosque['id']}").status_code == 404


def test_search_tolerates_prefixes_misspelling_and_reduplication(actors):
    ct = actors["call_taker"]
    assert search(ct, "Kel. Nipah2")[0]["name"] == "Nipah-Nipah"
    assert search(ct, "Kelurahan Nipah-nipah")[0]["kind"] == "kelurahan"
    first = search(ct, "Kec. Sepaku")[0]
    assert (first["kind"], first["name"], first["id"]) == ("kecamatan", "Sepaku", "64.09.04")
    assert search(ct, "Desa Sepaku")[0]["kind"] == "kelurahan"
    assert search(ct, "sepaqu")[0]["name"] == "Sepaku"
    assert search(ct, "Ds. Babulu Laut")[0]["name"] == "Babulu Laut"
    assert search(ct, "gunung setleng")[0]["name"] == "Gunung Seteleng"
    assert search(ct, "qqqqzzz") == []
    assert actors["call_taker"].get(f"{API}/places/search", params={"q": ""}).status_code == 422


def test_half_typed_names_rank_prefixes_first_and_a_level_prefix_narrows(actors):
    ct = actors["call_taker"]
    assert {h["name"] for h in search(ct, "sep")[:3]} == {"Sepaku", "Sepan"}
    assert [h["name"] for h in search(ct, "mulyo")[:2]] == ["Argo Mulyo", "Suko Mulyo"]
    assert "Bangun Mulya" in [h["name"] for h in search(ct, "mulyo")]  # misspelt, ranked after
    assert [(h["name"], h["kind"]) for h in search(ct, "Kel. sot")] == [("Sotek", "kelurahan")]
    assert (search(ct, "kec penajam")[0]["kind"], search(ct, "kec penajam")[0]["name"]) == \
        ("kecamatan", "Penajam")
    assert search(ct, "kel") == []  # a prefix alone names nothing


def test_search_box_reads_abbreviations_as_the_address_matcher_does(actors, ctx):
    ct = actors["call_taker"]
    for typed, name in (("Sungei Parit", "Sungai Parit"), ("Tjg. Tengah", "Tanjung Tengah"),
                        ("Kpg Baru", "Kampung Baru"), ("Sépaku", "Sepaku")):
        hit = search(ct, typed)[0]
        assert (hit["name"], hit["score"]) == (name, 100), typed
        assert ctx.gazetteer.match_address(f"Jl. Mawar RT 05, {typed}").name == name, typed


def test_km_markers_match_their_number_exactly(actors):
    admin = actors["admin"]
    for km, lat in ((12, -1.16), (13, -1.15)):
        admin.post(f"{API}/landmarks", json={"kind": "km_marker", "name": f"KM {km} Jalan Penajam-Sepaku",
                                             "lat": lat, "lon": 116.75}).raise_for_status()
    hits = search(actors["call_taker"], "km12")
    assert hits[0]["name"] == "KM 12 Jalan Penajam-Sepaku"
    assert all("KM 13" not in h["name"] for h in hits)


def test_import_is_all_or_nothing_with_line_numbers(actors, ctx):
    admin = actors["admin"]
    good = ("name,kind,lat,lon,aliases,source\n"
            "Pasar Induk Penajam,market,-1.2583,116.7694,Pasar Penajam,survei 2026\n"
            "SDN 001 Sepaku,school,-0.8495,116.7195,,survei 2026\n")
    bad = good + "Jembatan Pulau Balang,bridge,abc,116.7\n\nPelabuhan Monas,port,-6.17,106.82,,\n"
    r = admin.post(f"{API}/landmarks/import", content=bad.encode(), headers={"Content-Type": "text/csv"})
    assert r.status_code == 422
    lines = [(p["line"], p["msg"]) for p in r.json()["detail"]]
    assert [n for n, _ in lines] == [4, 6] and "outside" in lines[1][1]
    assert count(ctx) == 0
    r = admin.post(f"{API}/landmarks/import", content=good.encode(), headers={"Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json() == {"created": 2, "updated": 0}
    # Importing again updates what is there, never doubles it.
    moved = good.replace("-0.8495,116.7195", "-0.8490,116.7190")
    assert admin.post(f"{API}/landmarks/import", content=moved.encode(),
                      headers={"Content-Type": "text/csv"}).json() == {"created": 0, "updated": 2}
    assert count(ctx) == 2
    assert search(actors["call_taker"], "sdn 1 sepaku")[0]["lat"] == -0.849
    missing = admin.post(f"{API}/landmarks/import", content=b"name,lat\nX,1\n", headers={"Content-Type": "text/csv"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["line"] == 1
    assert actors["call_taker"].post(f"{API}/landmarks/import", content=good.encode()).status_code == 403


def test_geojson_import_names_the_line_of_a_bad_feature(actors, ctx):
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.7664, -1.2553]},
         "properties": {"name": "Masjid Agung", "kind": "mosque", "aliases": ["Masjid Besar"]}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[116.7, -1.2], [116.8, -1.3]]},
         "properties": {"name": "Jalan", "kind": "other"}},
    ]
    text = json.dumps({"type": "FeatureCollection", "features": features}, indent=2)
    r = actors["admin"].post(f"{API}/landmarks/import", content=text.encode(),
                             headers={"Content-Type": "application/geo+json"})
    assert r.status_code == 422
    line = r.json()["detail"][0]["line"]
    assert text.splitlines()[line - 1].strip() == "{" and '"LineString"' in "\n".join(text.splitlines()[line:line + 4])
    assert count(ctx) == 0
    ok = json.dumps({"type": "FeatureCollection", "features": features[:1]})
    r = actors["admin"].post(f"{API}/landmarks/import", params={"format": "geojson"}, content=ok.encode())
    assert r.json() == {"created": 1, "updated": 0}
    assert search(actors["call_taker"], "masjid besar")[0]["name"] == "Masjid Agung"
    broken = actors["admin"].post(f"{API}/landmarks/import", params={"format": "geojson"},
                                  content=b'{"type": "FeatureCollection",\n "features": [\n}')
    assert broken.status_code == 422 and broken.json()["detail"][0]["line"] == 3


def test_cli_imports_the_demo_file_and_refuses_a_bad_one(database_url, tmp_path, ctx):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA112_")}
    env.update(SIAGA112_DATABASE_URL=database_url, SIAGA112_VAR_DIR=str(tmp_path / "var"),
               SIAGA112_AUDIT_KEY=os.environ["SIAGA112_AUDIT_KEY"])  # the server's key, as an operator has it
    bad = tmp_path / "bad.csv"
    bad.write_text("name,kind,lat,lon\nMasjid X,mosque,-1.2553,116.7664\nY,school,-1.2,\n", encoding="utf-8")
    r = subprocess.run([str(SIAGA112), "landmarks", "import", str(bad)], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "line 3: lon" in r.stderr and "nothing was imported" in r.stderr
    assert count(ctx) == 0
    r = subprocess.run([str(SIAGA112), "landmarks", "import", str(DEMO_LANDMARKS)], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert count(ctx) == len(DEMO_LANDMARKS.read_text(encoding="utf-8").splitlines()) - 1


def test_an_informal_address_finds_the_place_it_names(actors):
    # Issue 12: typed as callers say it, this found nothing (the RT number filtered every place).
    ct = actors["call_taker"]
    hits = search(ct, "dekat masjid Al-Ikhlas, RT 05 Kelurahan Nipah-Nipah")
    assert (hits[0]["name"], hits[0]["kind"]) == ("Nipah-Nipah", "kelurahan")
    assert search(ct, "rumah pak Budi dekat pasar, desa sotek")[0]["name"] == "Sotek"
    # A landmark the address names comes too, once the centre knows it.
    actors["admin"].post(f"{API}/landmarks", json=MOSQUE).raise_for_status()
    names = [h["name"] for h in search(ct, "dekat masjid Al-Ikhlas, RT 05 Kelurahan Nipah-Nipah")]
    assert {"Nipah-Nipah", "Masjid Al-Ikhlas"} <= set(names[:3])
    # Numbers that do name a place still have to match.
    assert search(ct, "km 99, Nipah-Nipah")[0]["name"] == "Nipah-Nipah"
