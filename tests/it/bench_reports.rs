//! Bench scenario r on a small dataset (issue 10).
