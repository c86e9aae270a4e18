//! Report dataset generator (issue 10).
