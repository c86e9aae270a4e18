//! Being written (issue 7).
