//! Reading the Go binaries golb builds, for what only the binary can tell:
//! the build info (`buildinfo`: Go release, linked modules, build settings)
//! that SBOMs are made from, and the function table (`pclntab`) that size
//! reports attribute bytes with, through section access to the ELF file
//! (`elf`). Runs inside build steps (`golb step …`) and on the host alike.

pub mod buildinfo;
pub mod elf;
pub mod pclntab;
#[cfg(test)]
pub(crate) mod test_binaries;

pub use buildinfo::{BuildInfo, BuildInfoError, BuildSetting, Module};
pub use elf::{ElfError, Executable, Section};
