//! The `wangge` command line (skeleton).
