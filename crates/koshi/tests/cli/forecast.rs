//! `koshi forecast` end to end.
