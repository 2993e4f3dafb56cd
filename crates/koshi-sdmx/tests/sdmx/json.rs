//! SDMX-JSON 1.0 data messages: koshi's messages written in the time-series, flat and
//! cross-section layouts and decoded back from their indices, their shape checked the way the
//! JSON Schema and Python's sdmx1 reader see it.

use koshi_sdmx::json::JsonDataWriter;
use koshi_sdmx::*;
use serde_json::Value;

use super::csv::{migration_data, migration_dsd, migration_structures};

fn header() -> Header {
    Header {
        id: "KOSHI-42".into(),
        test: false,
        prepared: "2024-05-01T12:00:00".into(),
        sender: "KOSHI".into(),
        receiver: None,
    }
}

fn write(layout: ObservationDimension, data: &[(DataSetHeader, Vec<Series>)]) -> Result<Value, WriteError> {
    let dsd = migration_dsd();
    let structures = migration_structures();
    let dataflow = ArtefactRef::new("KOSHI", "MIGRATION", "1.0");
    let mut out = Vec::new();
    let mut writer: Box<dyn DataWriter + '_> =
        Box::new(JsonDataWriter::new(&mut out, &header(), &dsd, &dataflow, &structures.codelists, "en", &layout));
    for (h, series) in data {
        let mut h = h.clone();
        h.dimension_at_observation = layout.clone();
        writer.start_dataset(&h)?;
        for s in series {
            writer.write_series(s)?;
        }
        writer.end_dataset()?;
    }
    writer.finish()?;
    Ok(serde_json::from_slice(&out).expect("the output is JSON"))
}

/// One decoded observation: data set, action, key (dimension, code) in DSD order with the
/// period last, value, attributes (id, value) in DSD order.
type Decoded = (usize, String, Vec<(String, String)>, Value, Vec<(String, String)>);

fn arr<'a>(v: &'a Value, what: &str) -> &'a Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("{what} is not an array: {v}"))
}

fn obj<'a>(v: &'a Value, what: &str) -> &'a serde_json::Map<String, Value> {
    v.as_object().unwrap_or_else(|| panic!("{what} is not an object: {v}"))
}

fn index(v: &Value, len: usize, what: &str) -> Option<usize> {
    if v.is_null() {
        return None;
    }
    let i = v.as_u64().unwrap_or_else(|| panic!("{what}: {v} is not an index")) as usize;
    assert!(i < len, "{what}: index {i} out of {len}");
    Some(i)
}

/// Decode every observation of a message back to codes, checking every index on the way.
fn decode(msg: &Value) -> Vec<Decoded> {
    let structure = &msg["structure"];
    let dims = &structure["dimensions"];
    let atts = &structure["attributes"];
    for level in ["dataSet", "series", "observation"] {
        arr(&dims[level], level);
        arr(&atts[level], level);
    }
    // Every value list: ids matching the schema's pattern, names present.
    for level in ["dataSet", "series", "observation"] {
        for d in arr(&dims[level], level) {
            assert!(d["id"].is_string() && d["keyPosition"].is_u64() && d["name"].is_string(), "{d}");
            for v in arr(&d["values"], "values") {
                let id = v["id"].as_str().unwrap();
                assert!(!id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || "_@$-".contains(c)), "{id}");
                assert!(v["name"].is_string());
            }
        }
        for a in arr(&atts[level], level) {
            assert!(a["id"].is_string() && a["relationship"].is_object(), "{a}");
            for v in arr(&a["values"], "values") {
                assert!(v["name"].is_string(), "{v}");
            }
        }
    }
    let code = |d: &Value, i: usize| d["values"][i]["id"].as_str().unwrap().to_string();
    let att_value = |a: &Value, i: usize| {
        let v = &a["values"][i];
        v.get("id").unwrap_or(&v["name"]).as_str().unwrap().to_string()
    };
    let keyed = |list: &Vec<Value>, text: &str, out: &mut Vec<(usize, String, String)>| {
        let parts: Vec<&str> = if text.is_empty() { vec![] } else { text.split(':').collect() };
        assert_eq!(parts.len(), list.len(), "key {text}");
        for (d, p) in list.iter().zip(parts) {
            let i = index(&Value::from(p.parse::<u64>().unwrap()), arr(&d["values"], "values").len(), "key").unwrap();
            out.push((d["keyPosition"].as_u64().unwrap() as usize, d["id"].as_str().unwrap().to_string(), code(d, i)));
        }
    };
    let attrs_of = |list: &Vec<Value>, values: &[Value], out: &mut Vec<(String, String)>| {
        assert!(values.len() <= list.len());
        for (a, v) in list.iter().zip(values) {
            if let Some(i) = index(v, arr(&a["values"], "values").len(), "attribute") {
                out.push((a["id"].as_str().unwrap().to_string(), att_value(a, i)));
            }
        }
    };
    let order: Vec<String> = migration_dsd().attributes.iter().map(|a| a.component.id.clone()).collect();
    let mut all = Vec::new();
    for (n, ds) in arr(&msg["dataSets"], "dataSets").iter().enumerate() {
        let action = ds["action"].as_str().unwrap().to_string();
        assert!(["Information", "Append", "Replace", "Delete"].contains(&action.as_str()));
        assert!(ds["links"].is_array(), "the final schema asks a data set for links");
        let mut ds_attrs = Vec::new();
        if let Some(v) = ds.get("attributes") {
            attrs_of(arr(&atts["dataSet"], "dataSet"), arr(v, "attributes"), &mut ds_attrs);
        }
        let mut push = |key: Vec<(usize, String, String)>, obs: &Vec<Value>, mut attributes: Vec<(String, String)>| {
            let mut key = key;
            key.sort();
            assert!(!obs.is_empty(), "an observation has its value first");
            attrs_of(arr(&atts["observation"], "observation"), &obs[1..], &mut attributes);
            attributes.extend(ds_attrs.iter().cloned());
            attributes.sort_by_key(|(id, _)| order.iter().position(|o| o == id));
            let key = key.into_iter().map(|(_, d, c)| (d, c)).collect();
            all.push((n, action.clone(), key, obs[0].clone(), attributes));
        };
        if let Some(series) = ds.get("series") {
            for (k, s) in obj(series, "series") {
                let mut key = Vec::new();
                keyed(arr(&dims["series"], "series"), k, &mut key);
                let mut s_attrs = Vec::new();
                attrs_of(arr(&atts["series"], "series"), arr(&s["attributes"], "attributes"), &mut s_attrs);
                let observations = obj(&s["observations"], "observations");
                if observations.is_empty() {
                    // A key alone: decoded as an observation without period or value.
                    push(key.clone(), &vec![Value::Null], s_attrs.clone());
                }
                for (t, o) in observations {
                    let mut key = key.clone();
                    keyed(arr(&dims["observation"], "observation"), t, &mut key);
                    push(key, arr(o, "observation"), s_attrs.clone());
                }
            }
        }
        if let Some(observations) = ds.get("observations") {
            for (t, o) in obj(observations, "observations") {
                let mut key = Vec::new();
                keyed(arr(&dims["observation"], "observation"), t, &mut key);
                push(key, arr(o, "observation"), Vec::new());
            }
        }
    }
    all.sort_by(|a, b| (a.0, &a.2).cmp(&(b.0, &b.2)));
    all
}

/// What `decode` should give for `data` (a key-only series as a null value without period).
fn expected(data: &[(DataSetHeader, Vec<Series>)], with_empty_series: bool) -> Vec<Decoded> {
    let dsd = migration_dsd();
    let mut all = Vec::new();
    for (n, (h, series)) in data.iter().enumerate() {
        for s in series {
            if s.observations.is_empty() && with_empty_series {
                let mut attributes: Vec<(String, String)> = s.attributes.clone();
                attributes.extend(h.attributes.iter().cloned());
                attributes.sort_by_key(|(id, _)| dsd.attributes.iter().position(|a| a.component.id == *id));
                all.push((n, h.action.xml_name().to_string(), s.key.clone(), Value::Null, attributes));
            }
            for o in &s.observations {
                let mut key = s.key.clone();
                key.push(("TIME_PERIOD".into(), o.time_period.clone()));
                let value = match &o.value {
                    None => Value::Null,
                    Some(v) => serde_json::from_str(v).unwrap_or(Value::String(v.clone())),
                };
                let mut attributes: Vec<(String, String)> = o.attributes.clone();
                attributes.extend(s.attributes.iter().cloned());
                attributes.extend(h.attributes.iter().cloned());
                attributes.sort_by_key(|(id, _)| dsd.attributes.iter().position(|a| a.component.id == *id));
                all.push((n, h.action.xml_name().to_string(), key, value, attributes));
            }
        }
    }
    all.sort_by(|a, b| (a.0, &a.2).cmp(&(b.0, &b.2)));
    all
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect()
}

#[test]
fn time_series_layout() {
    let data = migration_data();
    let msg = write(ObservationDimension::TimePeriod, &data).unwrap();
    assert_eq!(msg["header"]["id"], "KOSHI-42");
    assert_eq!(msg["header"]["prepared"], "2024-05-01T12:00:00Z", "a date-time with its zone");
    assert_eq!(msg["header"]["sender"]["id"], "KOSHI");
    let dims = &msg["structure"]["dimensions"];
    assert_eq!(ids(&dims["series"]), ["FREQ", "ORIGIN", "DESTINATION"]);
    assert_eq!(ids(&dims["observation"]), ["TIME_PERIOD"]);
    assert_eq!(dims["observation"][0]["keyPosition"], 3);
    let atts = &msg["structure"]["attributes"];
    assert_eq!(
        (ids(&atts["dataSet"]), ids(&atts["series"]), ids(&atts["observation"])),
        (vec!["UNIT_MULT"], vec!["TITLE"], vec!["OBS_STATUS"])
    );
    // Names from the code lists, in the language asked.
    let origin = &dims["series"][1]["values"];
    assert_eq!(origin[0], serde_json::json!({"id": "DE", "name": "name of DE"}));
    // Free text has no id (the schema's id pattern), codes have one.
    assert!(atts["series"][0]["values"].as_array().unwrap().iter().any(|v| v.get("id").is_none()));
    assert_eq!(atts["observation"][0]["values"][0]["id"], "A");

    let sets = msg["dataSets"].as_array().unwrap();
    assert_eq!(sets.len(), 2);
    assert_eq!((sets[0]["action"].as_str(), sets[1]["action"].as_str()), (Some("Information"), Some("Delete")));
    let first = sets[0]["series"].as_object().unwrap();
    assert_eq!(first.len(), 3, "three series, one without observations");
    let de_fr = &first["0:0:0"];
    assert_eq!(de_fr["observations"]["0"], serde_json::json!([12.5, 0]));
    assert_eq!(de_fr["observations"]["1"][0], Value::Null, "a missing value is null");
    assert_eq!(first["0:1:2"]["observations"].as_object().unwrap().len(), 0);
    let observations: usize = sets
        .iter()
        .flat_map(|s| s["series"].as_object().unwrap().values())
        .map(|s| s["observations"].as_object().unwrap().len())
        .sum();
    assert_eq!(observations, data.iter().flat_map(|(_, s)| s).map(|s| s.observations.len()).sum::<usize>());

    assert_eq!(decode(&msg), expected(&data, true));
}

#[test]
fn flat_layout() {
    let data = migration_data();
    let msg = write(ObservationDimension::AllDimensions, &data).unwrap();
    let dims = &msg["structure"]["dimensions"];
    assert_eq!(ids(&dims["series"]).len(), 0);
    assert_eq!(ids(&dims["observation"]), ["FREQ", "ORIGIN", "DESTINATION", "TIME_PERIOD"]);
    let atts = &msg["structure"]["attributes"];
    assert_eq!(ids(&atts["observation"]), ["TITLE", "OBS_STATUS"], "series attributes go with each observation");
    for set in msg["dataSets"].as_array().unwrap() {
        assert!(set.get("series").is_none());
        for key in set["observations"].as_object().unwrap().keys() {
            assert_eq!(key.split(':').count(), 4);
        }
    }
    assert_eq!(decode(&msg), expected(&data, false));
}

#[test]
fn cross_section_layout() {
    let data = migration_data();
    let msg = write(ObservationDimension::Dimension("DESTINATION".into()), &data).unwrap();
    let dims = &msg["structure"]["dimensions"];
    assert_eq!(ids(&dims["series"]), ["FREQ", "ORIGIN", "TIME_PERIOD"]);
    assert_eq!(ids(&dims["observation"]), ["DESTINATION"]);
    assert_eq!(decode(&msg), expected(&data, false));
}

#[test]
fn values_as_json_numbers_strings_or_null() {
    let mut data = migration_data();
    data.truncate(1);
    let values = ["1", "-0.25", "1e3", "NaN", "01", ".5", "n/a"];
    data[0].1 = vec![Series {
        key: data[0].1[0].key.clone(),
        attributes: vec![],
        observations: values
            .iter()
            .enumerate()
            .map(|(i, v)| Obs { time_period: format!("{}", 2000 + i), value: Some(v.to_string()), attributes: vec![] })
            .collect(),
    }];
    let msg = write(ObservationDimension::TimePeriod, &data).unwrap();
    let obs = &msg["dataSets"][0]["series"]["0:0:0"]["observations"];
    let got: Vec<Value> = (0..values.len()).map(|i| obs[i.to_string()][0].clone()).collect();
    assert_eq!(
        got,
        [
            serde_json::json!(1),
            serde_json::json!(-0.25),
            serde_json::json!(1000.0),
            Value::Null,
            serde_json::json!("01"),
            serde_json::json!(".5"),
            serde_json::json!("n/a")
        ]
    );
}

#[test]
fn the_writer_refuses_what_the_structure_lacks() {
    let data = migration_data();
    let mut bad = data.clone();
    bad[0].1[0].key.push(("SEX".into(), "F".into()));
    assert!(matches!(write(ObservationDimension::TimePeriod, &bad), Err(WriteError::Structure(_))));
    let mut bad = data.clone();
    bad[0].1[0].key.remove(0);
    assert!(matches!(write(ObservationDimension::TimePeriod, &bad), Err(WriteError::Structure(_))));
    let mut bad = data.clone();
    bad[0].1[0].observations[0].attributes.push(("NOTE".into(), "x".into()));
    assert!(matches!(write(ObservationDimension::TimePeriod, &bad), Err(WriteError::Structure(_))));
    assert!(matches!(write(ObservationDimension::Dimension("SEX".into()), &data), Err(WriteError::Structure(_))));
}

#[test]
fn an_empty_message_is_still_a_message() {
    let msg = write(ObservationDimension::TimePeriod, &[]).unwrap();
    assert_eq!(msg["dataSets"], serde_json::json!([]));
    assert_eq!(ids(&msg["structure"]["dimensions"]["series"]), ["FREQ", "ORIGIN", "DESTINATION"]);
}
