//! The data bank use cases in process.
