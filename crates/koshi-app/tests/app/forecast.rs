//! forecast use cases in process.
