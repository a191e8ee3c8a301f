//! Section access for the ELF executables golb builds (always Linux): the
//! named sections Go's linker writes (`.go.buildinfo`, `.gopclntab`, …) and
//! reads by virtual address, through the `object` crate. A stripped binary
//! (`-s -w`) loses its symbol table but keeps these sections.

use object::{BinaryFormat, Object, ObjectSection};

/// An ELF executable held in memory.
pub struct Executable<'data> {
    file: object::File<'data>,
}

/// One section's contents and where the program sees them.
#[derive(Clone, Copy, Debug)]
pub struct Section<'data> {
    /// The virtual address of the first byte.
    pub address: u64,
    /// The bytes in the file; empty for a section that occupies no file
    /// space (`.bss`, `.noptrbss`).
    pub data: &'data [u8],
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    #[error("not an executable golb can read: {0}")]
    Unreadable(String),
    #[error("a {0:?} file, not ELF: golb reads the Linux binaries it builds")]
    NotElf(BinaryFormat),
    #[error("section {name}: {message}")]
    Section { name: String, message: String },
}

impl<'data> Executable<'data> {
    /// Parses the headers; section contents are read on demand.
    pub fn parse(data: &'data [u8]) -> Result<Executable<'data>, ElfError> {
        let file = object::File::parse(data).map_err(|e| ElfError::Unreadable(e.to_string()))?;
        if file.format() != BinaryFormat::Elf {
            return Err(ElfError::NotElf(file.format()));
        }
        Ok(Executable { file })
    }

    /// The section called `name`, or None when the binary has none.
    pub fn section(&self, name: &str) -> Result<Option<Section<'data>>, ElfError> {
        let Some(section) = self.file.section_by_name(name) else {
            return Ok(None);
        };
        let data = section.data().map_err(|e| ElfError::Section {
            name: name.to_string(),
            message: e.to_string(),
        })?;
        Ok(Some(Section {
            address: section.address(),
            data,
        }))
    }

    /// `len` bytes at virtual address `address`, from the section holding
    /// them; None when no section's file contents cover the whole range.
    pub fn read_at(&self, address: u64, len: u64) -> Option<&'data [u8]> {
        self.file.sections().find_map(|section| {
            let data = section.data().ok()?;
            let offset = address.checked_sub(section.address())?;
            let end = offset.checked_add(len)?;
            let (offset, end) = (usize::try_from(offset).ok()?, usize::try_from(end).ok()?);
            data.get(offset..end)
        })
    }

    /// Whether multi-byte values in the file are little-endian.
    pub fn is_little_endian(&self) -> bool {
        self.file.is_little_endian()
    }

    /// The size of a pointer on the target: 8 on 64-bit, 4 on 32-bit.
    pub fn pointer_size(&self) -> u8 {
        if self.file.is_64() {
            8
        } else {
            4
        }
    }

    /// The target architecture, as the ELF header names it.
    pub fn architecture(&self) -> object::Architecture {
        self.file.architecture()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::go_binary::test_binaries::test_binaries;

    #[test]
    fn sections_of_a_real_go_binary_are_found_stripped_or_not() {
        let bins = test_binaries();
        for path in [&bins.stripped, &bins.unstripped] {
            let bytes = std::fs::read(path).unwrap();
            let exe = Executable::parse(&bytes).unwrap();
            assert_eq!(exe.pointer_size(), 8);
            assert!(exe.is_little_endian());
            assert_eq!(exe.architecture(), object::Architecture::X86_64);
            let info = exe.section(".go.buildinfo").unwrap().unwrap();
            assert!(info.data.starts_with(b"\xff Go buildinf:"), "{path:?}");
            // The same bytes through their virtual address.
            assert_eq!(exe.read_at(info.address, 14), Some(&info.data[..14]));
            assert!(exe.section(".gopclntab").unwrap().is_some());
            assert!(exe.section(".no-such-section").unwrap().is_none());
        }
    }

    #[test]
    fn other_files_are_errors() {
        assert!(matches!(
            Executable::parse(b"#!/bin/sh\necho hi\n"),
            Err(ElfError::Unreadable(_))
        ));
        assert!(matches!(
            Executable::parse(b""),
            Err(ElfError::Unreadable(_))
        ));
        // An ELF header cut short.
        let bytes = std::fs::read(&test_binaries().stripped).unwrap();
        for len in [4, 16, 63, 200] {
            assert!(
                Executable::parse(&bytes[..len]).is_err(),
                "{len} bytes of ELF parsed"
            );
        }
    }
}
