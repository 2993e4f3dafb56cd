#!/usr/bin/env python3
"""Turn the world-atlas TopoJSON (countries-110m.iso.json) into the GeoJSON koshi serves for its
world maps: one feature per country with properties iso_a3 and name, coordinates rounded to
0.01 degree. Run from this directory: python3 topojson_to_geojson.py SOURCE.json > countries-110m.geojson
"""
import json
import sys


def decode_arcs(topology):
    scale, translate = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append([round(x * scale[0] + translate[0], 2), round(y * scale[1] + translate[1], 2)])
        arcs.append(points)
    return arcs


def ring(arcs, indices):
    points = []
    for i in indices:
        arc = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        points.extend(arc if not points else arc[1:])
    return points


def geometry(arcs, g):
    if g["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": [ring(arcs, r) for r in g["arcs"]]}
    if g["type"] == "MultiPolygon":
        return {"type": "MultiPolygon", "coordinates": [[ring(arcs, r) for r in p] for p in g["arcs"]]}
    return None


def main(path):
    topology = json.load(open(path, encoding="utf-8"))
    arcs = decode_arcs(topology)
    features = []
    for g in topology["objects"]["countries"]["geometries"]:
        props = g.get("properties", {})
        shape = geometry(arcs, g)
        if shape is None or not props.get("iso_a3"):
            continue
        features.append({"type": "Feature", "properties": {"iso_a3": props["iso_a3"], "name": props.get("name", "")}, "geometry": shape})
    json.dump({"type": "FeatureCollection", "features": features}, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main(sys.argv[1])
