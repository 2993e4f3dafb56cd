//! SDMX 2.1 for koshi: the information model ([`model`]), and messages written as streams and
//! read with diagnostics — SDMX-ML 2.1 structure, generic and structure-specific data and error
//! messages ([`xml`]), SDMX-CSV 1.0 and 2.0 ([`csv`]), SDMX-JSON 1.0 data ([`json`]).
//!
//! Pure: no files, no clock, no network. Writers take any `std::io::Write` and never hold a
//! whole message; readers take any `std::io::BufRead`, hand each observation to the caller as
//! they meet it and return every problem found with its position.

pub mod csv;
pub mod json;
pub mod model;
pub mod xml;

pub use model::*;

/// Media types of the formats, as the SDMX REST specification names them.
pub mod media {
    pub const STRUCTURE_ML: &str = "application/vnd.sdmx.structure+xml;version=2.1";
    pub const GENERIC_DATA_ML: &str = "application/vnd.sdmx.genericdata+xml;version=2.1";
    pub const STRUCTURE_SPECIFIC_DATA_ML: &str = "application/vnd.sdmx.structurespecificdata+xml;version=2.1";
    pub const GENERIC_TS_DATA_ML: &str = "application/vnd.sdmx.generictimeseriesdata+xml;version=2.1";
    pub const DATA_CSV_1: &str = "application/vnd.sdmx.data+csv;version=1.0.0";
    pub const DATA_CSV_2: &str = "application/vnd.sdmx.data+csv;version=2.0.0";
    pub const DATA_JSON_1: &str = "application/vnd.sdmx.data+json;version=1.0.0";
    pub const ERROR_ML: &str = "application/vnd.sdmx.error+xml;version=2.1";
}

/// Why a message could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("writing the message: {0}")]
    Io(#[from] std::io::Error),
    /// The data do not fit the structure (a key with a dimension the DSD does not have …).
    #[error("{0}")]
    Structure(String),
}

/// Why a message could not be read at all (problems inside a readable message are
/// [`Diagnostic`]s in the [`ReadReport`]).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("reading {file}: {source}")]
    Io { file: String, source: std::io::Error },
}

/// A data message being written: data sets of whole series, in any of the formats. The
/// writer writes its message header when it is made and its closing when it is finished;
/// what lies between goes out as it is written (the SDMX-JSON writer alone keeps the series
/// until `finish`, because its structure part lists every code before the data).
pub trait DataWriter {
    fn start_dataset(&mut self, header: &DataSetHeader) -> Result<(), WriteError>;
    /// A series with its observations. A series with no observations is written as a key
    /// (and its attributes) alone, as `detail=serieskeysonly` and `nodata` ask.
    fn write_series(&mut self, series: &Series) -> Result<(), WriteError>;
    fn end_dataset(&mut self) -> Result<(), WriteError>;
    /// Close the message and flush the output.
    fn finish(self: Box<Self>) -> Result<(), WriteError>;
}

/// What a reader does with each observation it reads: go on, or stop reading (a limit
/// reached).
pub type Sink<'a> = dyn FnMut(ReadObservation) -> std::ops::ControlFlow<()> + 'a;
