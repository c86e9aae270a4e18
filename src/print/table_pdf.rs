//! Tables as PDF (issue 10).
