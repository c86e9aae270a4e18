//! Placeholder (issue 10): filled by the dashboard reports.
