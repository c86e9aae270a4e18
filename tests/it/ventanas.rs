//! ventanas API tests.

#[allow(unused_imports)]
use crate::fixtures;
