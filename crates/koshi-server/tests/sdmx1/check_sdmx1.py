"""A real SDMX client against a running koshi: sdmx1 reads the structures and the data, its
values are compared with the bank's own JSON API observation by observation, every SDMX-ML
message koshi sends is validated against the official SDMX 2.1 schemas, and the HTTP rules of
the REST specification (content negotiation, ETag/304, gzip, SDMX error messages) are checked.

Every check is made; the failures are listed at the end and the exit status is 1 if any.
"""

import argparse
import gzip
import io
import json
import logging
import math
import pathlib
import sys
import urllib.error
import urllib.request

import sdmx
from lxml import etree

SS = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
GENERIC = "application/vnd.sdmx.genericdata+xml;version=2.1"
STRUCTURE = "application/vnd.sdmx.structure+xml;version=2.1"
CSV2 = "application/vnd.sdmx.data+csv;version=2.0.0"
CSV1 = "application/vnd.sdmx.data+csv;version=1.0.0"
JSON1 = "application/vnd.sdmx.data+json;version=1.0.0"

failures: list[str] = []
checks = 0


def check(condition, message):
    global checks
    checks += 1
    if not condition:
        failures.append(message)
        print(f"FAIL {message}", flush=True)


def fetch(url, accept=None, headers=None):
    request = urllib.request.Request(url, headers={**({"Accept": accept} if accept else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            body = r.read()
            if r.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            return r.status, r.headers, body
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class Schemas:
    """The official SDMX-ML 2.1 schemas, and DSD-specific ones for structure-specific data."""

    def __init__(self, directory: pathlib.Path, work: pathlib.Path):
        self.directory = directory
        self.work = work
        self.message = etree.XMLSchema(etree.parse(str(directory / "SDMXMessage.xsd")))
        self.count = 0

    def validate(self, body: bytes, name: str, dsd_schema: bytes | None = None):
        self.count += 1
        document = etree.parse(io.BytesIO(body))
        schema = self.message
        if dsd_schema is not None:
            dsd_path = self.work / f"dsd-{self.count}.xsd"
            dsd_path.write_bytes(dsd_schema)
            target = etree.parse(io.BytesIO(dsd_schema)).getroot().get("targetNamespace")
            wrapper = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:import namespace="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
             schemaLocation="{(self.directory / 'SDMXMessage.xsd').as_uri()}"/>
  <xs:import namespace="{target}" schemaLocation="{dsd_path.as_uri()}"/>
</xs:schema>"""
            wrapper_path = self.work / f"wrapper-{self.count}.xsd"
            wrapper_path.write_text(wrapper)
            schema = etree.XMLSchema(etree.parse(str(wrapper_path)))
        valid = schema.validate(document)
        errors = "; ".join(str(e) for e in list(schema.error_log)[:3])
        check(valid, f"{name} validates against the SDMX 2.1 schemas: {errors}")


def bank_figures(base, dataflow, key, extra="", by_source=False):
    """The bank's figures for a key, from its JSON API, as {(codes…, period): (value, item)}
    (with `by_source`, {(codes…, period, source): …}: every source's figure)."""
    out = {}
    offset = 0
    while True:
        status, _, body = fetch(
            f"{base}/api/data/{dataflow}?key={urllib.request.quote(key)}&limit=10000&offset={offset}{extra}"
        )
        assert status == 200, (status, body[:300])
        page = json.loads(body)
        for item in page["items"]:
            source = (item["source"],) if by_source else ()
            out[(*item["key"], item["time_period"], *source)] = (item["value"], item)
        if page["next"] is None:
            return out
        offset += page["limit"]


def koshi_period(text):
    """An SDMX time range (`1991-01-01/P27Y`, `2017-01-01/P5M`) as the bank writes it (`1991/2017`)."""
    if "/P" not in text:
        return text
    start, duration = text.split("/P")
    n, unit = int(duration[:-1]), duration[-1]
    year, month = int(start[:4]), int(start[5:7])
    if unit == "Y":
        return f"{year}/{year + n - 1}"
    if unit == "M":
        last = month - 1 + n - 1
        return f"{year}-{month:02d}/{year + last // 12}-{last % 12 + 1:02d}"
    return text


def same_value(a, b):
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return b is not None and float(a) == float(b)


def compare_series(label, series, bank):
    """sdmx1's pandas Series against the bank's figures, observation by observation."""
    got = {}
    names = list(series.index.names)
    # The bank's order: the dimensions as the DSD gives them, then the period.
    order = [n for n in names if n != "TIME_PERIOD"] + ["TIME_PERIOD"]
    for index, value in series.items():
        index = index if isinstance(index, tuple) else (index,)
        by_name = dict(zip(names, (str(i) for i in index)))
        key = tuple(by_name[n] for n in order)
        got[key[:-1] + (koshi_period(key[-1]),)] = value
    check(len(got) == len(bank), f"{label}: sdmx1 read {len(got)} observations, the bank has {len(bank)}")
    wrong = [k for k, (v, _) in bank.items() if k not in got or not same_value(v, got[k])]
    check(not wrong, f"{label}: values differ for {wrong[:5]}")
    return len(got)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--schemas", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--export-csv", required=True)
    parser.add_argument("--export-xml", required=True)
    parser.add_argument("--export-generic", required=True)
    args = parser.parse_args()
    base = args.base
    rest = f"{base}/sdmx/rest"
    schemas = Schemas(pathlib.Path(args.schemas), pathlib.Path(args.work))

    # sdmx1 logs every attribute a data set leaves empty; only its errors matter here.
    logging.getLogger("sdmx").setLevel(logging.ERROR)
    sdmx.add_source({"id": "KOSHI", "url": rest, "name": "koshi (test)"}, override=True)
    client = sdmx.Client("KOSHI")

    # Structures: the dataflows, a DSD with references=all, code lists in three languages.
    flows = client.dataflow()
    ids = set(flows.dataflow.keys())
    for expected in ["MIG_STOCK", "MIG_EXT", "MIG_INT", "POP", "TRADE"]:
        check(expected in ids, f"the dataflow list has {expected}: {sorted(ids)}")
    status, headers, body = fetch(f"{rest}/dataflow/KOSHI/all/latest")
    check(status == 200 and headers.get("Content-Type", "").startswith(STRUCTURE), f"dataflows: {status} {headers.get('Content-Type')}")
    schemas.validate(body, "the dataflow list")

    api_flows = {d["id"]: d for d in json.loads(fetch(f"{base}/api/dataflows?limit=1000")[2])["items"]}
    full = client.dataflow("MIG_EXT", params={"references": "all"})
    dsd = full.structure["DSD_MIG_EXT"]
    dims = [d.id for d in dsd.dimensions.components if d.id != "TIME_PERIOD"]
    api_dims = [d["id"] for d in api_flows["MIG_EXT"]["dimensions"]]
    check(dims == api_dims, f"DSD_MIG_EXT dimensions {dims} vs the API's {api_dims}")
    check("CL_AREA" in full.codelist, f"references=all brings the code lists: {list(full.codelist.keys())}")
    status, _, body = fetch(f"{rest}/dataflow/KOSHI/MIG_EXT/1.0?references=all")
    schemas.validate(body, "dataflow MIG_EXT with references=all")

    ds_msg = client.datastructure("DSD_POP", params={"references": "all"})
    check("DSD_POP" in ds_msg.structure, "datastructure DSD_POP is read")
    check("POP" in ds_msg.dataflow, "references=all on a DSD brings its dataflow")
    status, _, body = fetch(f"{rest}/datastructure/KOSHI/DSD_POP/latest?references=all")
    schemas.validate(body, "datastructure DSD_POP with references=all")

    area = client.codelist("CL_AREA").codelist["CL_AREA"]
    kaz = area["KAZ"]
    check(str(kaz.name.localizations.get("en")) == "Kazakhstan", f"KAZ in English: {kaz.name.localizations}")
    check(kaz.name.localizations.get("ru") == "Казахстан", f"KAZ in Russian: {kaz.name.localizations}")
    check(bool(kaz.name.localizations.get("kk")), f"KAZ in Kazakh: {kaz.name.localizations}")
    codes = json.loads(fetch(f"{base}/api/codelists/AREA")[2])
    bank_codes = {c["id"] for c in codes["codes"]}
    check(bank_codes <= set(area.items.keys()), f"CL_AREA holds every AREA code: missing {sorted(bank_codes - set(area.items.keys()))[:5]}")
    for resource in ["codelist/KOSHI/CL_SEX", "conceptscheme", "agencyscheme", "dataproviderscheme", "contentconstraint/KOSHI/CC_MIG_EXT"]:
        status, headers, body = fetch(f"{rest}/{resource}")
        check(status == 200, f"{resource}: {status} {body[:200]!r}")
        if status == 200:
            schemas.validate(body, resource)
    constraint = client.get(url=f"{rest}/contentconstraint/KOSHI/CC_MIG_EXT").constraint["CC_MIG_EXT"]
    region = constraint.data_content_region[0]
    present = {k.id: {getattr(v, "value", None) for v in m.values} - {None} for k, m in region.member.items()}
    check("KAZ" in present.get("REF_AREA", set()), f"the content constraint lists KAZ: {present.get('REF_AREA')}")

    # Data for several keys, generic (sdmx1's default) and structure-specific: to_pandas() equals the bank.
    compared = 0
    cases = [
        ("MIG_EXT", "KAZ.WLD._T._T.NET+ARR+DEP"),
        ("MIG_EXT", "KAZ.CIS+NON_CIS._T..ARR"),
        ("MIG_STOCK", "KAZ.._T.STOCK"),
        ("MIG_INT", "KZ-75+KZ-71.NET"),
        ("POP", ""),
    ]
    for dataflow, key in cases:
        bank = bank_figures(base, dataflow, key, "&harmonised=true")
        msg = client.data(dataflow, key=key or None)
        series = sdmx.to_pandas(msg)
        compared += compare_series(f"{dataflow} {key or 'all'} (generic)", series, bank)
        url = f"{rest}/data/{dataflow}/{key or 'all'}"
        status, headers, body = fetch(url, GENERIC)
        check(headers.get("Vary", "").startswith("Accept"), f"{url}: Vary: Accept")
        schemas.validate(body, f"generic data {dataflow} {key}")
        status, headers, body = fetch(url, SS)
        check(status == 200 and headers.get("Content-Type") == SS, f"{url} as structure-specific: {status} {headers.get('Content-Type')}")
        xsd_status, _, xsd = fetch(f"{rest}/schema/dataflow/KOSHI/{dataflow}/1.0")
        check(xsd_status == 200, f"the schema of {dataflow}: {xsd_status}")
        schemas.validate(body, f"structure-specific data {dataflow} {key}", xsd)
        status, _, body = fetch(url, JSON1)
        check(status == 200, f"{url} as SDMX-JSON: {status}")
        as_json = sdmx.read_sdmx(io.BytesIO(body), format="JSON")
        compared += compare_series(f"{dataflow} {key or 'all'} (SDMX-JSON)", sdmx.to_pandas(as_json), bank)
        structure = client.dataflow(dataflow, params={"references": "all"}).structure[f"DSD_{dataflow}"]
        ss = sdmx.read_sdmx(io.BytesIO(body), structure=structure)
        compared += compare_series(f"{dataflow} {key or 'all'} (structure-specific)", sdmx.to_pandas(ss), bank)

    # One source's figures through the provider path parameter.
    bank = bank_figures(base, "MIG_EXT", "KAZ.WLD._T._T.NET", "&source=UN_WPP")
    msg = client.get(url=f"{rest}/data/MIG_EXT/KAZ.WLD._T._T.NET/KOSHI,UN_WPP")
    compared += compare_series("MIG_EXT NET from the provider UN_WPP", sdmx.to_pandas(msg), bank)

    # Vintage: asOf before the 2024 projections sees the bank's as-of answer.
    bank = bank_figures(base, "MIG_STOCK", "KAZ.._T.STOCK", "&harmonised=true&as_of=2019-01-01")
    if bank:
        msg = client.get(url=f"{rest}/data/MIG_STOCK/KAZ.._T.STOCK?asOf=2019-01-01")
        compared += compare_series("MIG_STOCK as of 2019-01-01", sdmx.to_pandas(msg), bank)

    # Periods and first/last N observations.
    msg = client.get(url=f"{rest}/data/MIG_EXT/KAZ.WLD._T._T.NET?startPeriod=2010&endPeriod=2015")
    frame = sdmx.to_pandas(msg)
    periods = sorted(str(p) for p in frame.index.get_level_values("TIME_PERIOD"))
    check(periods and periods[0] >= "2010" and periods[-1] <= "2015", f"startPeriod/endPeriod: {periods}")
    msg = client.get(url=f"{rest}/data/MIG_EXT/KAZ.WLD._T._T.NET?lastNObservations=3")
    check(len(sdmx.to_pandas(msg)) == 3, "lastNObservations=3 gives 3 observations")
    status, _, body = fetch(f"{rest}/data/MIG_EXT/KAZ.WLD._T._T.NET?detail=serieskeysonly", GENERIC)
    schemas.validate(body, "serieskeysonly data")
    check(b"Obs>" not in body and b"<generic:Obs" not in body, "serieskeysonly has no observations")
    status, _, body = fetch(f"{rest}/data/MIG_EXT/KAZ.WLD._T._T.NET?dimensionAtObservation=AllDimensions", SS)
    check(status == 200, f"AllDimensions: {status}")
    xsd = fetch(f"{rest}/schema/dataflow/KOSHI/MIG_EXT/1.0?dimensionAtObservation=AllDimensions")[2]
    schemas.validate(body, "flat structure-specific data", xsd)

    # Cross-sections (observations by a dimension) in both kinds, and structure stubs.
    for kind in (GENERIC, SS):
        status, _, body = fetch(f"{rest}/data/MIG_EXT/KAZ.WLD._T._T.NET+ARR?dimensionAtObservation=MEASURE", kind)
        check(status == 200, f"a cross-section as {kind}: {status}")
        xsd = fetch(f"{rest}/schema/dataflow/KOSHI/MIG_EXT/1.0?dimensionAtObservation=MEASURE")[2] if kind == SS else None
        schemas.validate(body, f"cross-sectional data ({kind})", xsd)
    for detail in ("allstubs", "referencestubs"):
        status, _, body = fetch(f"{rest}/codelist/KOSHI/all/latest?detail={detail}", STRUCTURE)
        check(status == 200, f"detail={detail}: {status}")
        schemas.validate(body, f"code lists at detail={detail}")

    # Formats by Accept and by format=, 406 for another, ETag and 304, gzip.
    for accept, expected in [(CSV1, CSV1), (CSV2, CSV2), (JSON1, JSON1), ("text/html", None)]:
        status, headers, body = fetch(f"{rest}/data/MIG_EXT/KAZ.WLD._T._T.NET", accept)
        if expected is None:
            check(status == 406, f"Accept: {accept} is a 406, got {status}")
            schemas.validate(body, "the 406 error message")
        else:
            check(status == 200 and headers.get("Content-Type") == expected, f"Accept {accept}: {status} {headers.get('Content-Type')}")
    json_msg = json.loads(fetch(f"{rest}/data/MIG_EXT/KAZ.WLD._T._T.NET", JSON1)[2])
    check("dataSets" in json_msg and "structure" in json_msg, "SDMX-JSON has structure and dataSets")
    status, headers, _ = fetch(f"{rest}/data/MIG_EXT/KAZ.WLD._T._T.NET?format=csvdata")
    check(headers.get("Content-Type") == CSV1, f"format=csvdata: {headers.get('Content-Type')}")
    status, headers, _ = fetch(f"{rest}/data/MIG_EXT/KAZ.WLD._T._T.NET", GENERIC)
    etag = headers.get("ETag")
    check(bool(etag), "data answers carry an ETag")
    status, _, _ = fetch(f"{rest}/data/MIG_EXT/KAZ.WLD._T._T.NET", GENERIC, {"If-None-Match": etag or ""})
    check(status == 304, f"If-None-Match with the ETag is a 304, got {status}")
    request = urllib.request.Request(f"{rest}/data/POP", headers={"Accept-Encoding": "gzip", "Accept": GENERIC})
    with urllib.request.urlopen(request, timeout=60) as r:
        check(r.headers.get("Content-Encoding") == "gzip", "data are gzipped when asked")

    # Errors: SDMX error messages with the specification's status codes.
    for url, code in [
        (f"{rest}/data/MIG_EXT/KAZ.WLD._T._T.NET?startPeriod=2090", 404),
        (f"{rest}/data/NO_SUCH_FLOW", 404),
        (f"{rest}/data/MIG_EXT/KAZ.NET", 400),
        (f"{rest}/data/MIG_EXT?bogus=1", 400),
        (f"{rest}/data/MIG_EXT?includeHistory=true", 501),
        (f"{rest}/metadataflow", 501),
        (f"{rest}/codelist/KOSHI/CL_NOTHING", 404),
    ]:
        status, headers, body = fetch(url, GENERIC if "/data/" in url else STRUCTURE)
        check(status == code, f"{url}: status {status}, expected {code}: {body[:200]!r}")
        check(headers.get("Content-Type", "").startswith("application/vnd.sdmx.error+xml"), f"{url}: an SDMX error message")
        schemas.validate(body, f"the error message of {url}")

    # The exported files: SDMX-ML validates; SDMX-CSV 2.0 is read by sdmx1's reader.
    pop = pathlib.Path(args.export_xml).read_bytes()
    schemas.validate(pop, "koshi export POP --format sdmx-ml", fetch(f"{rest}/schema/dataflow/KOSHI/POP/1.0")[2])
    schemas.validate(pathlib.Path(args.export_generic).read_bytes(), "koshi export MIG_INT --format sdmx-ml-generic")
    exported = sdmx.read_sdmx(args.export_csv, structure=dsd)
    expected = {k: v for k, (v, _) in bank_figures(base, "MIG_EXT", "KAZ.WLD._T._T.", by_source=True).items()}
    read = {}
    for data_set in exported.data:
        for obs in data_set.obs:
            key = obs.key.order()
            codes = tuple(str(key.values[d].value) for d in dims)
            source = str(obs.attached_attribute["SOURCE"].value)
            period = koshi_period(str(key.values["TIME_PERIOD"].value))
            read[(*codes, period, source)] = obs.value
    check(len(read) == len(expected), f"the SDMX-CSV 2.0 export: sdmx1 read {len(read)} figures, the bank has {len(expected)}")
    wrong = [k for k, v in expected.items() if k not in read or not same_value(v, read[k])]
    check(not wrong, f"the SDMX-CSV 2.0 export differs for {wrong[:5]}")

    print(f"sdmx1 {sdmx.__version__}: {compared} observations compared, {schemas.count} SDMX-ML messages validated")
    print(f"{checks - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
