//! `koshi flows` end to end.
