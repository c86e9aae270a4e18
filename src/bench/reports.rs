//! Scenario r: the reports benchmark (issue 10).
