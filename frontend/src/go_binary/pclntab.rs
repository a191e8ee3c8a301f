//! Go's pclntab: the function table every Go binary keeps for the runtime
//! (stack traces, garbage collection), even when linked with `-s -w`. It maps
//! each function's code to its name, so it tells which package every byte of
//! `.text` belongs to without a symbol table.
//!
//! Layout (runtime/symtab.go `pcHeader` and `_func`, debug/gosym): a header
//! with the magic, the pointer size, the number of functions and the offsets
//! of its sub-tables; `functab`, nfunc pairs of (entry offset, `_func`
//! offset) plus the end of the last function; each `_func` names its function
//! (an offset into `funcnametab`) and its pc-value tables (offsets into
//! `pctab`). Go 1.18 and 1.19 (magic 0xfffffff0) and Go 1.20 and later
//! (0xfffffff1) share this layout except that 1.20 added `startLine` to
//! `_func`. Older layouts are refused with an error.

use std::collections::{BTreeMap, BTreeSet};

const MAGIC_GO118: u32 = 0xffff_fff0;
const MAGIC_GO120: u32 = 0xffff_fff1;
const MAGIC_GO116: u32 = 0xffff_fffa;
const MAGIC_GO12: u32 = 0xffff_fffb;

/// Which pclntab layout a binary has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Go 1.18 and 1.19.
    Go118,
    /// Go 1.20 and later.
    Go120,
}

/// One function of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    /// Its linker name, e.g. `main.main`, `github.com/a/b.(*T).M`,
    /// `type:.eq.example.com/x.T`.
    pub name: String,
    /// Bytes of `.text` from its entry to the next function's entry: its
    /// machine code plus the alignment padding after it.
    pub code_bytes: u64,
    /// Bytes of the pclntab section that exist for it: its name, its `_func`
    /// record and functab entry, the pc-value tables and the funcdata (stack
    /// and argument maps, `go:func.*`, which the linker places in the same
    /// section) it is the first to use: the linker shares identical tables
    /// between functions.
    pub table_bytes: u64,
}

/// The parsed table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pclntab {
    pub layout: Layout,
    pub ptr_size: u8,
    pub functions: Vec<Function>,
    /// The table's whole size; what `functions` do not claim is shared
    /// (header, file and compilation-unit tables).
    pub size: u64,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PclntabError {
    #[error("the pclntab is {0} bytes, too short for its header")]
    TooShort(usize),
    #[error("the pclntab starts with magic {0:#010x}, which is not Go's; is this a Go binary?")]
    NotGo(u32),
    #[error("the pclntab has the layout of Go 1.2 to 1.17 (magic {0:#010x}); size attribution reads Go 1.18 and later: rebuild with a newer Go")]
    TooOld(u32),
    #[error("the pclntab is damaged: {0}")]
    Damaged(String),
}

/// Parses a pclntab (the `.gopclntab` section's bytes).
pub fn parse(data: &[u8]) -> Result<Pclntab, PclntabError> {
    if data.len() < 8 {
        return Err(PclntabError::TooShort(data.len()));
    }
    let (little, magic) = match (read_u32(data, 0, true), read_u32(data, 0, false)) {
        (Some(m @ (MAGIC_GO118 | MAGIC_GO120)), _) => (true, m),
        (_, Some(m @ (MAGIC_GO118 | MAGIC_GO120))) => (false, m),
        (Some(m @ (MAGIC_GO116 | MAGIC_GO12)), _) | (_, Some(m @ (MAGIC_GO116 | MAGIC_GO12))) => {
            return Err(PclntabError::TooOld(m))
        }
        (Some(m), _) => return Err(PclntabError::NotGo(m)),
        (None, _) => return Err(PclntabError::TooShort(data.len())),
    };
    let layout = if magic == MAGIC_GO120 {
        Layout::Go120
    } else {
        Layout::Go118
    };
    let ptr_size = data[7];
    if ptr_size != 4 && ptr_size != 8 {
        return Err(PclntabError::Damaged(format!("pointer size {ptr_size}")));
    }
    let reader = Reader {
        data,
        little,
        ptr_size: usize::from(ptr_size),
    };
    // Header words after the first 8 bytes: nfunc, nfiles, (unused text
    // start), funcnametab, cutab, filetab, pctab, pclntab offsets.
    let word = |i: usize| reader.word(8 + i * reader.ptr_size);
    let nfunc = word(0)?;
    let funcnametab = word(3)?;
    let pctab = word(6)?;
    let functab = word(7)?;
    if nfunc > data.len() / 8 {
        return Err(PclntabError::Damaged(format!("{nfunc} functions")));
    }
    // `_func` before its variable arrays: 44 bytes since Go 1.20 (startLine), 40 before.
    let func_header = if layout == Layout::Go120 { 44 } else { 40 };
    let mut seen_tables = BTreeSet::new();
    let mut functions = Vec::with_capacity(nfunc);
    // funcdata offsets (relative to `go:func.*`), and the first function using each.
    let mut funcdata: BTreeMap<u32, usize> = BTreeMap::new();
    for i in 0..nfunc {
        let entry = reader.u32(functab + i * 8)?;
        let func_off = reader.u32(functab + i * 8 + 4)? as usize;
        let next_entry = reader.u32(functab + (i + 1) * 8)?;
        let code_bytes = next_entry
            .checked_sub(entry)
            .ok_or_else(|| PclntabError::Damaged(format!("function {i} ends before it starts")))?;
        let record = functab + func_off;
        let name_off = reader.u32(record + 4)? as usize;
        let name = reader.c_string(funcnametab + name_off)?;
        let npcdata = reader.u32(record + 28)? as usize;
        let nfuncdata = usize::from(reader.u8(record + func_header - 1)?);
        if npcdata > 64 {
            return Err(PclntabError::Damaged(format!(
                "{name}: {npcdata} pcdata tables"
            )));
        }
        let mut table_bytes = (name.len() + 1 + func_header + 4 * (npcdata + nfuncdata) + 8) as u64;
        // pcsp, pcfile, pcln, then the pcdata tables: offsets into pctab, 0 for none.
        let mut offsets = vec![
            reader.u32(record + 16)?,
            reader.u32(record + 20)?,
            reader.u32(record + 24)?,
        ];
        for k in 0..npcdata {
            offsets.push(reader.u32(record + func_header + 4 * k)?);
        }
        for k in 0..nfuncdata {
            let off = reader.u32(record + func_header + 4 * (npcdata + k))?;
            // ^0 marks a missing entry.
            if off != u32::MAX {
                funcdata.entry(off).or_insert(i);
            }
        }
        for off in offsets.into_iter().filter(|&o| o != 0) {
            if seen_tables.insert(off) {
                table_bytes += reader.pc_value_table_len(pctab + off as usize)? as u64;
            }
        }
        functions.push(Function {
            name,
            code_bytes: u64::from(code_bytes),
            table_bytes,
        });
    }
    // The blobs lie in offset order; each runs to the next one. The last
    // one's end is unknown and it is not counted (a few bytes).
    let starts: Vec<(u32, usize)> = funcdata.into_iter().collect();
    for pair in starts.windows(2) {
        let ((off, user), (next, _)) = (pair[0], pair[1]);
        functions[user].table_bytes += u64::from(next - off);
    }
    Ok(Pclntab {
        layout,
        ptr_size,
        functions,
        size: data.len() as u64,
    })
}

fn read_u32(data: &[u8], at: usize, little: bool) -> Option<u32> {
    let bytes: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if little {
        u32::from_le_bytes(bytes)
    } else {
        u32::from_be_bytes(bytes)
    })
}

/// Bounds-checked reads: a damaged table gives an error, never a panic.
struct Reader<'a> {
    data: &'a [u8],
    little: bool,
    ptr_size: usize,
}

impl Reader<'_> {
    fn out_of_range(&self, at: usize) -> PclntabError {
        PclntabError::Damaged(format!(
            "offset {at:#x} is past its end ({:#x})",
            self.data.len()
        ))
    }

    fn u8(&self, at: usize) -> Result<u8, PclntabError> {
        self.data
            .get(at)
            .copied()
            .ok_or_else(|| self.out_of_range(at))
    }

    fn u32(&self, at: usize) -> Result<u32, PclntabError> {
        read_u32(self.data, at, self.little).ok_or_else(|| self.out_of_range(at))
    }

    fn word(&self, at: usize) -> Result<usize, PclntabError> {
        let value = if self.ptr_size == 4 {
            u64::from(self.u32(at)?)
        } else {
            let bytes: [u8; 8] = self
                .data
                .get(at..at + 8)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| self.out_of_range(at))?;
            if self.little {
                u64::from_le_bytes(bytes)
            } else {
                u64::from_be_bytes(bytes)
            }
        };
        usize::try_from(value).map_err(|_| self.out_of_range(at))
    }

    fn c_string(&self, at: usize) -> Result<String, PclntabError> {
        let rest = self.data.get(at..).ok_or_else(|| self.out_of_range(at))?;
        let end = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| PclntabError::Damaged(format!("unterminated name at {at:#x}")))?;
        Ok(String::from_utf8_lossy(&rest[..end]).into_owned())
    }

    fn uvarint(&self, at: usize) -> Result<(u64, usize), PclntabError> {
        let mut value = 0u64;
        for (i, shift) in (0..10).zip((0..).step_by(7)) {
            let byte = self.u8(at + i)?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok((value, i + 1));
            }
        }
        Err(PclntabError::Damaged(format!(
            "varint at {at:#x} is too long"
        )))
    }

    /// The length of the pc-value table at `at`: pairs of (value delta, pc
    /// delta) varints, ended by a zero value delta after the first pair
    /// (runtime.step).
    fn pc_value_table_len(&self, at: usize) -> Result<usize, PclntabError> {
        let mut pos = at;
        let mut first = true;
        loop {
            let (value_delta, n) = self.uvarint(pos)?;
            pos += n;
            if value_delta == 0 && !first {
                return Ok(pos - at);
            }
            let (_, n) = self.uvarint(pos)?;
            pos += n;
            first = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_and_old_tables_are_refused() {
        assert_eq!(parse(&[0; 4]), Err(PclntabError::TooShort(4)));
        let mut old = 0xffff_fffbu32.to_le_bytes().to_vec();
        old.extend([0, 0, 1, 8]);
        assert_eq!(parse(&old), Err(PclntabError::TooOld(0xffff_fffb)));
        let mut elf = b"\x7fELF".to_vec();
        elf.extend([0, 0, 1, 8]);
        assert!(matches!(parse(&elf), Err(PclntabError::NotGo(_))));
    }

    #[test]
    fn a_truncated_table_is_an_error_not_a_panic() {
        let mut data = MAGIC_GO120.to_le_bytes().to_vec();
        data.extend([0, 0, 1, 8]);
        // nfunc = 3, then nothing.
        data.extend(3u64.to_le_bytes());
        assert!(matches!(parse(&data), Err(PclntabError::Damaged(_))));
    }
}
