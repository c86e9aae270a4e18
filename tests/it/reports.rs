//! Tests of the reports reports (issue 10).
