//! Placeholder (issue 10): filled by the reports reports.
