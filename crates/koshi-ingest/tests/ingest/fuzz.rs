//! Property-based fuzzing of the table readers and the mapping parser, seeded with the real
//! files: no input panics, every failure is a typed error, and every row handed on has
//! exactly the header's width. Case counts are modest; `PROPTEST_CASES` raises them.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use koshi_ingest::mapping::FileSpec;
use koshi_ingest::table::{Header, RaggedRow, RowSink, TableLimits, read_table};
use koshi_ingest::{IngestOptions, Input, parse_mapping, plan_ingest};
use proptest::prelude::*;

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Checks the reader's promise about shapes while collecting nothing.
#[derive(Default)]
struct ShapeSink {
    width: Option<usize>,
    rows: usize,
    ragged: usize,
}

impl RowSink for ShapeSink {
    fn header(&mut self, header: &Header) -> bool {
        self.width = Some(header.columns.len());
        true
    }
    fn row(&mut self, row_number: usize, cells: &[&str]) -> bool {
        assert_eq!(Some(cells.len()), self.width, "row {row_number} does not have the header's width");
        assert!(cells.iter().any(|c| !c.trim().is_empty()), "row {row_number} is empty");
        self.rows += 1;
        true
    }
    fn ragged_row(&mut self, ragged: &RaggedRow) -> bool {
        assert_eq!(Some(ragged.expected), self.width);
        assert_ne!(ragged.expected, ragged.found);
        self.ragged += 1;
        true
    }
}

/// Small limits, so that fuzzed sizes reach them.
const SMALL: TableLimits = TableLimits {
    max_xlsx_file_bytes: 1 << 20,
    max_sheet_part_bytes: 4 << 20,
    max_part_bytes: 1 << 20,
    max_decompressed_bytes: 8 << 20,
    max_rows: 5_000,
    max_columns: 300,
    max_cells: 100_000,
    max_cell_chars: 2_000,
    max_record_bytes: 64 << 10,
};

/// The head (up to 6 KB) of each real delimited file, with its format.
fn delimited_seeds() -> &'static Vec<(String, Vec<u8>)> {
    static SEEDS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds = Vec::new();
        for ds in koshi_ingest::bundled::datasets() {
            let format = if ds.file_name.contains(".txt") { "tsv" } else { "csv" };
            seeds.push((format.to_string(), ds.bytes().unwrap()));
        }
        let shared = root().join("../shared/data");
        for path in [
            "kazakhstan/internal_migration_2023.csv",
            "kazakhstan/population_regions-age-sex.csv",
            "undesa/population_totals_2019.csv",
            "kazakhstan/bns/external_migration_national/upstream_migration_arrivals.csv",
            "labour/isco08/isco08_structure_en.csv",
        ] {
            seeds.push(("csv".into(), std::fs::read(shared.join(path)).unwrap()));
        }
        for entry in std::fs::read_dir(root().join("data/papers")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "csv") {
                seeds.push(("csv".into(), std::fs::read(path).unwrap()));
            }
        }
        for (_, bytes) in &mut seeds {
            bytes.truncate(6_000);
        }
        seeds
    })
}

/// Byte-level edits that matter to a delimited reader or a parser.
#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let special = prop::sample::select(vec![
        b",".to_vec(),
        b"\t".to_vec(),
        b"\"".to_vec(),
        b"\n".to_vec(),
        b"\r\n".to_vec(),
        b";".to_vec(),
        b"=".to_vec(),
        b"[".to_vec(),
        b"]".to_vec(),
        b"#".to_vec(),
        "\u{feff}".as_bytes().to_vec(),
        "–".as_bytes().to_vec(),
        vec![0xff],
        b"9999999999999999999999".to_vec(),
        b"-1".to_vec(),
        b"\"\"".to_vec(),
    ]);
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), special).prop_map(|(i, s)| Edit::Insert(i, s)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8)).prop_map(|(i, s)| Edit::Insert(i, s)),
        (any::<usize>(), 1..64usize).prop_map(|(i, n)| Edit::Delete(i, n)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, edits: &[Edit]) {
    for e in edits {
        let len = bytes.len();
        match e {
            Edit::Flip(i, b) if len > 0 => bytes[i % len] = *b,
            Edit::Insert(i, s) => {
                let at = i % (len + 1);
                bytes.splice(at..at, s.iter().copied());
            }
            Edit::Delete(i, n) if len > 0 => {
                let at = i % len;
                bytes.drain(at..(at + n).min(len));
            }
            Edit::Truncate(i) => bytes.truncate(i % (len + 1)),
            _ => {}
        }
    }
}

fn file_spec(format: &str, header_rows: usize, skip_rows: usize, pad: bool, drop_empty: bool) -> FileSpec {
    let mut text = format!("format = \"{format}\"\nheader_rows = {header_rows}\nskip_rows = {skip_rows}\n");
    if pad {
        text.push_str("short_rows = \"pad\"\n");
    }
    if drop_empty {
        text.push_str("extra_fields = \"drop_empty\"\n");
    }
    let mapping = format!("[file]\n{text}\n[fields]\nOBS_VALUE = {{ column = \"#1\" }}\n");
    parse_mapping("fuzz.toml", &mapping).unwrap().file
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn fuzz_delimited_reader_on_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        tsv in any::<bool>(),
        header_rows in 0..3usize,
        skip_rows in 0..2usize,
        pad in any::<bool>(),
        drop_empty in any::<bool>(),
    ) {
        let spec = file_spec(if tsv { "tsv" } else { "csv" }, header_rows, skip_rows, pad, drop_empty);
        let mut sink = ShapeSink::default();
        let _ = read_table("fuzz.csv", Input::Bytes(&bytes), &spec, &SMALL, &mut sink);
    }

    #[test]
    fn fuzz_delimited_reader_and_ingest_on_mutated_real_files(
        seed in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..6),
        pad in any::<bool>(),
        drop_empty in any::<bool>(),
    ) {
        let seeds = delimited_seeds();
        let (format, original) = &seeds[seed.index(seeds.len())];
        let mut bytes = original.clone();
        apply(&mut bytes, &edits);
        let spec = file_spec(format, 1, 0, pad, drop_empty);
        let mut sink = ShapeSink::default();
        if read_table("mutated", Input::Bytes(&bytes), &spec, &SMALL, &mut sink).is_ok() {
            prop_assert!(sink.width.is_some());
        }
        // The same bytes through each bundled dataset's mapping of that format: no panic.
        let bank = koshi_store::Bank::open_in_memory().unwrap();
        for ds in koshi_ingest::bundled::datasets().iter().filter(|d| d.id.starts_with("kz-") || d.id.starts_with("wpp2024-net")) {
            let mapping = parse_mapping(ds.mapping_name, ds.mapping).unwrap();
            if mapping.file.format != *format {
                continue;
            }
            let options = IngestOptions { allow_defects: seed.index(2) == 1, ..Default::default() };
            let _ = plan_ingest(bank.catalogue(), &mapping, "mutated", Input::Bytes(&bytes), &options, &|_, _, _, _| Ok(None), &mut |_| {});
        }
    }
}

/// The workbooks fuzzed: generated ones of several shapes, and small real ones.
fn xlsx_seeds() -> &'static Vec<Vec<u8>> {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds = Vec::new();
        let mut wb = rust_xlsxwriter::Workbook::new();
        let sheet = wb.add_worksheet();
        sheet.set_name("Data").unwrap();
        sheet.write_string(0, 0, "Title row").unwrap();
        for (c, h) in ["region", "year", "arrivals", "departures"].iter().enumerate() {
            sheet.write_string(1, c as u16, *h).unwrap();
        }
        for r in 2..12u32 {
            sheet.write_string(r, 0, format!("Region {r}")).unwrap();
            sheet.write_number(r, 1, 2017.0).unwrap();
            sheet.write_number(r, 2, f64::from(r) * 1.5).unwrap();
            sheet.write_string(r, 3, "1 234,5").unwrap();
        }
        sheet.write_boolean(12, 0, true).unwrap();
        sheet.write_formula(12, 2, "=SUM(C3:C12)").unwrap();
        seeds.push(wb.save_to_buffer().unwrap());
        let mut wb = rust_xlsxwriter::Workbook::new();
        let sheet = wb.add_worksheet();
        sheet.merge_range(0, 1, 0, 3, "Страны СНГ", &rust_xlsxwriter::Format::new()).unwrap();
        sheet.write_string(1, 0, "Уровень").unwrap();
        sheet.write_string(200, 40, "far").unwrap();
        seeds.push(wb.save_to_buffer().unwrap());
        for path in [
            "kazakhstan/bns/avg_wage_by_region_occupation_2022/upstream_pg16_optRK2022.xlsx",
            "kazakhstan/bns/jobseekers_by_region/upstream_raw.xlsx",
        ] {
            seeds.push(std::fs::read(root().join("../shared/data").join(path)).unwrap());
        }
        seeds
    })
}

/// The entries of a zip archive, decompressed.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            (entry.name().unwrap().to_string(), data)
        })
        .collect()
}

fn rezip(entries: &[(String, Vec<u8>)], stored: bool) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let method = if stored { zip::CompressionMethod::Stored } else { zip::CompressionMethod::Deflated };
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, data) in entries {
        out.start_file(name.as_str(), options).unwrap();
        out.write_all(data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

fn read_xlsx(bytes: &[u8], sheet: Option<&str>, header_rows: usize, skip_rows: usize) {
    let mut spec = file_spec("xlsx", header_rows, skip_rows, false, false);
    spec.sheet = sheet.map(String::from);
    let mut sink = ShapeSink::default();
    let _ = read_table("fuzz.xlsx", Input::Bytes(bytes), &spec, &SMALL, &mut sink);
}

proptest! {
    #![proptest_config(cases(128))]

    #[test]
    fn fuzz_xlsx_reader_on_mutated_workbook_bytes(
        seed in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let seeds = xlsx_seeds();
        let mut bytes = seeds[seed.index(seeds.len())].clone();
        apply(&mut bytes, &edits);
        read_xlsx(&bytes, None, 1, 0);
    }

    #[test]
    fn fuzz_xlsx_reader_on_mutated_workbook_parts(
        seed in any::<prop::sample::Index>(),
        part in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..6),
        stored in any::<bool>(),
        header_rows in 1..3usize,
        skip_rows in 0..2usize,
    ) {
        // Mutating inside the XML parts and zipping them again reaches the XML parsing.
        let seeds = xlsx_seeds();
        let mut entries = unzip(&seeds[seed.index(seeds.len())]);
        let xml: Vec<usize> = (0..entries.len()).filter(|&i| entries[i].0.ends_with(".xml") || entries[i].0.ends_with(".rels")).collect();
        let i = xml[part.index(xml.len())];
        apply(&mut entries[i].1, &edits);
        let bytes = rezip(&entries, stored);
        read_xlsx(&bytes, None, header_rows, skip_rows);
        read_xlsx(&bytes, Some("Data"), header_rows, skip_rows);
    }
}

/// Every mapping the project ships, and the test fixtures.
fn mapping_seeds() -> &'static Vec<String> {
    static SEEDS: OnceLock<Vec<String>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds = Vec::new();
        for dir in [
            root().join("data/bundled/mappings"),
            root().join("crates/koshi-ingest/tests/fixtures"),
            root().join("bench/databank"),
        ] {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "toml") {
                    seeds.push(std::fs::read_to_string(path).unwrap());
                }
            }
        }
        seeds
    })
}

const SMALL_TABLE: &str = "region,month,arrivals,departures,net,Год,1950,1951,value,sex,age\n\
Abay,2024-01,\"1 234\",5,6,2017,1,2,3,M,30\n\
Aqmola,2024-02,1,(-) 2,–,2018,,x,4,F,70\n";

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn fuzz_mapping_parser_on_mutated_real_mappings(
        seed in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let seeds = mapping_seeds();
        let mut bytes = seeds[seed.index(seeds.len())].clone().into_bytes();
        apply(&mut bytes, &edits);
        let text = String::from_utf8_lossy(&bytes);
        // A mapping that parses is also applied to a small table: binding odd mappings must not panic either.
        if let Ok(mapping) = parse_mapping("mutated.toml", &text) {
            let bank = koshi_store::Bank::open_in_memory().unwrap();
            let options = IngestOptions { allow_defects: seed.index(2) == 1, ..Default::default() };
            let _ = plan_ingest(bank.catalogue(), &mapping, "small.csv", Input::Bytes(SMALL_TABLE.as_bytes()), &options, &|_, _, _, _| Ok(None), &mut |_| {});
        }
    }
}

#[test]
fn the_fuzzing_seeds_read_cleanly() {
    // Mutations start from valid inputs: each seed reads, with rows, before it is mutated.
    for (format, bytes) in delimited_seeds() {
        let mut sink = ShapeSink::default();
        read_table(
            "seed",
            Input::Bytes(bytes),
            &file_spec(format, 1, 0, false, false),
            &TableLimits::DEFAULT,
            &mut sink,
        )
        .unwrap();
        assert!(sink.rows > 0);
    }
    for bytes in xlsx_seeds() {
        let mut sink = ShapeSink::default();
        let _ = read_table("seed.xlsx", Input::Bytes(bytes), &file_spec("xlsx", 1, 0, false, false), &SMALL, &mut sink);
        assert!(sink.width.is_some_and(|w| w > 0), "a seed workbook has a header");
    }
    for text in mapping_seeds() {
        parse_mapping("seed.toml", text).unwrap();
    }
}

/// Found by the fuzzing run: a cell reference with many column letters overflowed the spreadsheet
/// reader's position arithmetic (a panic in debug builds, a cell put in the wrong place in release).
#[test]
fn an_overlong_cell_reference_is_refused_not_misplaced() {
    let entries = unzip(&xlsx_seeds()[0]);
    for bad in ["AAAAAAAAA3", "A99999999"] {
        let mutated: Vec<(String, Vec<u8>)> = entries
            .iter()
            .map(|(name, bytes)| {
                let text = String::from_utf8_lossy(bytes);
                let text = if name.contains("worksheets/") {
                    text.replace("r=\"A3\"", &format!("r=\"{bad}\""))
                } else {
                    text.into()
                };
                (name.clone(), text.into_bytes())
            })
            .collect();
        assert!(
            String::from_utf8_lossy(&mutated.iter().find(|(n, _)| n.contains("worksheets/")).unwrap().1).contains(bad)
        );
        let bytes = rezip(&mutated, false);
        let spec = file_spec("xlsx", 1, 1, false, false);
        let mut sink = ShapeSink::default();
        let err = read_table("bad.xlsx", Input::Bytes(&bytes), &spec, &SMALL, &mut sink).unwrap_err().to_string();
        assert!(err.contains(&format!("cell reference `{bad}` lies outside any worksheet")), "{err}");
    }
    // The untouched workbook still reads.
    let spec = file_spec("xlsx", 1, 1, false, false);
    let mut sink = ShapeSink::default();
    read_table("good.xlsx", Input::Bytes(&xlsx_seeds()[0]), &spec, &SMALL, &mut sink).unwrap();
}
