//! Tests of the dashboard reports (issue 10).
