//! Just enough ELF reading to check what golb promises about binaries:
//! static (no interpreter) and stripped (no symbol table).

#[derive(Debug, PartialEq, Eq)]
pub struct ElfFacts {
    /// e_machine: 62 x86-64, 183 aarch64, 40 arm.
    pub machine: u16,
    pub has_interpreter: bool,
    pub has_symbol_table: bool,
    /// Any `.debug_*`/`.zdebug_*` section: DWARF, which `-w` leaves out.
    pub has_dwarf: bool,
}

const PT_INTERP: u32 = 3;
const SHT_SYMTAB: u32 = 2;

/// Reads the facts from a 64- or 32-bit little-endian ELF file; None if it is not one.
pub fn inspect(bytes: &[u8]) -> Option<ElfFacts> {
    if bytes.get(..4)? != b"\x7fELF" || *bytes.get(5)? != 1 {
        return None;
    }
    let is64 = *bytes.get(4)? == 2;
    let u16_at = |o: usize| Some(u16::from_le_bytes(bytes.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(bytes.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(bytes.get(o..o + 8)?.try_into().ok()?));
    let word = |o: usize| {
        if is64 {
            u64_at(o).map(|v| v as usize)
        } else {
            u32_at(o).map(|v| v as usize)
        }
    };
    let machine = u16_at(18)?;
    let (phoff, shoff) = if is64 {
        (word(32)?, word(40)?)
    } else {
        (word(28)?, word(32)?)
    };
    let (phentsize, phnum, shentsize, shnum, shstrndx) = if is64 {
        (
            u16_at(54)?,
            u16_at(56)?,
            u16_at(58)?,
            u16_at(60)?,
            u16_at(62)?,
        )
    } else {
        (
            u16_at(42)?,
            u16_at(44)?,
            u16_at(46)?,
            u16_at(48)?,
            u16_at(50)?,
        )
    };
    let section = |i: usize| shoff + i * usize::from(shentsize);
    // sh_offset sits after sh_name, sh_type, sh_flags and sh_addr.
    let section_offset = |i: usize| {
        if is64 {
            word(section(i) + 24)
        } else {
            word(section(i) + 16)
        }
    };
    let has_interpreter = (0..usize::from(phnum))
        .filter_map(|i| u32_at(phoff + i * usize::from(phentsize)))
        .any(|p_type| p_type == PT_INTERP);
    let has_symbol_table = (0..usize::from(shnum))
        .filter_map(|i| u32_at(shoff + i * usize::from(shentsize) + 4))
        .any(|sh_type| sh_type == SHT_SYMTAB);
    let names_at = section_offset(usize::from(shstrndx));
    let has_dwarf = (0..usize::from(shnum)).any(|i| {
        let Some(name) = names_at
            .zip(u32_at(section(i)))
            .map(|(base, off)| base + off as usize)
        else {
            return false;
        };
        let Some(rest) = bytes.get(name..) else {
            return false;
        };
        rest.starts_with(b".debug_") || rest.starts_with(b".zdebug_")
    });
    Some(ElfFacts {
        machine,
        has_interpreter,
        has_symbol_table,
        has_dwarf,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_binary_itself_is_dynamic_and_has_symbols() {
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let facts = inspect(&me).unwrap();
        assert!(
            facts.has_interpreter,
            "cargo test binaries are dynamically linked"
        );
        assert!(
            facts.has_symbol_table,
            "debug test binaries keep their symbols"
        );
        assert!(facts.has_dwarf, "debug test binaries carry DWARF");
    }

    #[test]
    fn non_elf_files_are_not_inspected() {
        assert_eq!(inspect(b"#!/bin/sh\n"), None);
        assert_eq!(inspect(b"\x7fELF"), None);
    }
}
