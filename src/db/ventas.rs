//! Placeholder (issue 10): filled by the ventas reports.
