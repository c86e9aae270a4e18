//! Tests of the cierres reports (issue 10).
