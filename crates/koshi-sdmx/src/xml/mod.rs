//! SDMX-ML 2.1: structure messages, generic and structure-specific data messages (time
//! series, cross-sections and flat), DSD-specific schemas for structure-specific data, and
//! error messages — written as streams; structure and data messages read with diagnostics.
//!
//! Writers never hold more than one series. Readers use `quick-xml` as a pull parser: they
//! refuse any document with a DOCTYPE (so no entity is ever declared, let alone expanded),
//! resolve only the five predefined entities and character references, bound nesting depth
//! and text sizes by [`ReadLimits`](crate::ReadLimits), and report every problem with its line and column.

mod input;
mod read_data;
mod read_structure;
mod write;

pub use read_data::read_data;
pub use read_structure::read_structure;
pub use write::{XmlDataWriter, write_dsd_schema, write_error, write_structure};

/// The two SDMX-ML 2.1 data message kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XmlDataKind {
    /// `<message:GenericData>`: every value as an `id`/`value` pair; needs no schema per DSD.
    Generic,
    /// `<message:StructureSpecificData>`: components as XML attributes, typed by a
    /// DSD-specific schema ([`write_dsd_schema`]).
    StructureSpecific,
}

pub(crate) const NS_MESSAGE: &str = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message";
pub(crate) const NS_COMMON: &str = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common";
pub(crate) const NS_STRUCTURE: &str = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure";
pub(crate) const NS_GENERIC: &str = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic";
pub(crate) const NS_SS: &str = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific";
pub(crate) const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// The namespace of koshi's structure-specific data for a dataflow and layout, as SDMX
/// builds it: `urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=AG:ID(V):ObsLevelDim:DIM`.
pub fn structure_specific_namespace(dataflow: &crate::ArtefactRef, dim: &crate::ObservationDimension) -> String {
    format!("urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow={dataflow}:ObsLevelDim:{}", dim.id())
}
