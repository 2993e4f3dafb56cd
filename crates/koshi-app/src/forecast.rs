//! forecast use cases (moved here from the command line).
