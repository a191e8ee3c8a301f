//! Reading built Go binaries.

pub mod pclntab;
