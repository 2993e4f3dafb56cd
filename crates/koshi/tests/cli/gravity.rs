//! `koshi gravity` end to end.
