//! flows use cases in process.
