//! Placeholder (issue 10): filled by the cierres reports.
