//! The datasets shipped inside koshi, so that a fresh bank is useful offline: the papers'
//! tables and real public datasets, each with the mapping that reads it.

use std::io::Read;
use std::sync::OnceLock;

use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};

/// One bundled file and the mapping that reads it.
pub struct BundledDataset {
    pub id: &'static str,
    /// File name shown in citations and diagnostics.
    pub file_name: &'static str,
    pub mapping_name: &'static str,
    pub mapping: &'static str,
    data: Data,
}

enum Data {
    Gzip(&'static [u8]),
    Plain(&'static str),
}

impl BundledDataset {
    /// The file's bytes, decompressed.
    pub fn bytes(&self) -> std::io::Result<Vec<u8>> {
        match self.data {
            Data::Gzip(gz) => {
                let mut out = Vec::new();
                GzDecoder::new(gz).read_to_end(&mut out)?;
                Ok(out)
            }
            Data::Plain(text) => Ok(text.as_bytes().to_vec()),
        }
    }
}

macro_rules! gz {
    ($id:literal, $file:literal, $mapping:literal) => {
        BundledDataset {
            id: $id,
            file_name: $file,
            mapping_name: concat!("data/bundled/mappings/", $mapping),
            mapping: include_str!(concat!("../../../data/bundled/mappings/", $mapping)),
            data: Data::Gzip(include_bytes!(concat!("../../../data/bundled/", $file, ".gz"))),
        }
    };
}

/// A bundled file kept uncompressed in `data/bundled/` (small, and compared with its source line by line).
macro_rules! plain {
    ($id:literal, $file:literal, $mapping:literal) => {
        BundledDataset {
            id: $id,
            file_name: $file,
            mapping_name: concat!("data/bundled/mappings/", $mapping),
            mapping: include_str!(concat!("../../../data/bundled/mappings/", $mapping)),
            data: Data::Plain(include_str!(concat!("../../../data/bundled/", $file))),
        }
    };
}

macro_rules! paper {
    ($id:literal, $file:literal) => {
        BundledDataset {
            id: $id,
            file_name: concat!("data/papers/", $file),
            mapping_name: "data/bundled/mappings/papers.toml",
            mapping: include_str!("../../../data/bundled/mappings/papers.toml"),
            data: Data::Plain(include_str!(concat!("../../../data/papers/", $file))),
        }
    };
}

/// Every bundled dataset, in load order: reference figures (GDP, population) before the
/// figures checked against them.
pub fn datasets() -> Vec<BundledDataset> {
    let mut all = papers();
    all.extend([
        gz!("undesa-od-2019", "undesa_migrant_stock_od_2019.csv", "undesa_od_2019.toml"),
        gz!("undesa-stock-2020", "undesa_stock_totals_2020.csv", "undesa_stock_totals_2020.toml"),
        gz!("undesa-pop-2019", "undesa_population_totals_2019.csv", "undesa_population_2019.toml"),
        gz!("undesa-pop-2020", "undesa_population_totals_2020.csv", "undesa_population_2020.toml"),
        gz!("wpp2024-net", "wpp2024_migration.txt", "wpp2024_migration.toml"),
        gz!("wpp2024-cnmr", "wpp2024_cnmr.txt", "wpp2024_cnmr.toml"),
        gz!("wpp2024-proj-med", "wpp2024_migrationprojMed.txt", "wpp2024_proj_MED.toml"),
        gz!("wpp2024-proj-l80", "wpp2024_migrationproj80l.txt", "wpp2024_proj_L80.toml"),
        gz!("wpp2024-proj-u80", "wpp2024_migrationproj80u.txt", "wpp2024_proj_U80.toml"),
        gz!("wpp2024-proj-l95", "wpp2024_migrationproj95l.txt", "wpp2024_proj_L95.toml"),
        gz!("wpp2024-proj-u95", "wpp2024_migrationproj95u.txt", "wpp2024_proj_U95.toml"),
        gz!("kz-internal-2022", "kazakhstan_internal_migration_2022.csv", "kz_internal_migration_2022.toml"),
        gz!("kz-internal-2023", "kazakhstan_internal_migration_2023.csv", "kz_internal_migration_2023.toml"),
        gz!("kz-internal-2024", "kazakhstan_internal_migration_2024.csv", "kz_internal_migration_2024.toml"),
        gz!("kz-pop-total", "kazakhstan_population_regions-total.csv", "kz_population_total.toml"),
        gz!("kz-pop-sex", "kazakhstan_population_regions-by-sex.csv", "kz_population_by-sex.toml"),
        gz!("kz-pop-age-sex", "kazakhstan_population_regions-age-sex.csv", "kz_population_age-sex.toml"),
        // One file, read by two mappings: its row TRK is South Kazakhstan before 2017, Turkistan after.
        gz!(
            "kz-pop-2000-2016",
            "kz_population_by_region_start_of_year_2000_2023.csv",
            "kz_population_start_of_year_2000_2016.toml"
        ),
        gz!(
            "kz-pop-2017-2023",
            "kz_population_by_region_start_of_year_2000_2023.csv",
            "kz_population_start_of_year_2017_2023.toml"
        ),
        // The labour market (LAB_MKT): the Bureau's labour force survey, registered job seekers and wages.
        plain!(
            "kz-labour-force",
            "kz_labour_force_by_region_2001_2025.csv",
            "kz_labour_force_by_region_2001_2025.toml"
        ),
        gz!(
            "kz-unemployment-rate-regions",
            "kz_unemployment_rate_by_region_quarterly_2001_2023.csv",
            "kz_unemployment_rate_by_region_quarterly_2001_2023.toml"
        ),
        gz!(
            "kz-unemployment-rate-national",
            "kz_unemployment_rate_national_quarterly_2001_2026.csv",
            "kz_unemployment_rate_national_quarterly_2001_2026.toml"
        ),
        gz!(
            "kz-jobseekers",
            "kz_jobseekers_applied_employment_authorities_by_region_2001_2021.csv",
            "kz_jobseekers_applied_employment_authorities_by_region_2001_2021.toml"
        ),
        gz!(
            "kz-wage-occupation-2022",
            "kz_avg_monthly_wage_by_region_occupation_2022.csv",
            "kz_avg_monthly_wage_by_region_occupation_2022.toml"
        ),
        gz!(
            "kz-wage-national",
            "kz_avg_monthly_nominal_wage_national_2012_2025.csv",
            "kz_avg_monthly_nominal_wage_national_2012_2025.toml"
        ),
    ]);
    all
}

fn papers() -> Vec<BundledDataset> {
    // 001 is a second rendering of 000 with identical figures (data/papers/README.md).
    vec![
        BundledDataset {
            id: "reference-gdp",
            file_name: "data/bundled/reference_gdp.csv",
            mapping_name: "data/bundled/mappings/papers.toml",
            mapping: include_str!("../../../data/bundled/mappings/papers.toml"),
            data: Data::Plain(include_str!("../../../data/bundled/reference_gdp.csv")),
        },
        paper!("paper-000", "paper_000.csv"),
        paper!("paper-002", "paper_002.csv"),
        paper!("paper-003", "paper_003.csv"),
        paper!("paper-004", "paper_004.csv"),
    ]
}

/// A fingerprint of the bundle: every dataset's name, mapping and bytes, the structure files
/// it is read against and the version of the code that reads it. Recorded in the bank when the bundle is completely loaded, so a
/// bank can tell whether it holds this bundle, an older one or an interrupted load.
pub fn fingerprint() -> &'static str {
    static FINGERPRINT: OnceLock<String> = OnceLock::new();
    FINGERPRINT.get_or_init(|| {
        let mut h = Sha256::new();
        let mut part = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        part(env!("CARGO_PKG_VERSION").as_bytes());
        for ds in datasets() {
            part(ds.id.as_bytes());
            part(ds.file_name.as_bytes());
            part(ds.mapping.as_bytes());
            match ds.data {
                Data::Gzip(gz) => part(gz),
                Data::Plain(text) => part(text.as_bytes()),
            }
        }
        for (path, text) in koshi_core::catalogue::standard_texts().files {
            part(path.as_bytes());
            part(text.as_bytes());
        }
        h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
    })
}
