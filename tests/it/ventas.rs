//! Tests of the ventas reports (issue 10).
