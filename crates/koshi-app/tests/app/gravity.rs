//! gravity use cases in process.
