//! The sorteo jobs (domain-money §2.2–2.5): auto-create, auto-open, auto-close.
