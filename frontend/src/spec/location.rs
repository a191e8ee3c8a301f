//! Where in the spec file something was written: byte spans turned into the
//! 1-based line and column that editors, `golb check` and BuildKit show.

use std::ops::Range;

/// golb's one location type, from proto (BuildKit's source maps and error
/// ranges use it too).
pub use golb_proto::llb::Location;

/// Turns a byte span of `text` into lines and columns. A span past the end of
/// the text is clamped, so a location can always be shown.
pub fn locate(text: &str, span: Range<usize>) -> Location {
    let (line, col) = line_col(text, span.start);
    // The end is inclusive for people: point at the last character, not past it.
    let last = if span.end > span.start {
        span.end - 1
    } else {
        span.start
    };
    let (end_line, end_col) = line_col(text, last);
    Location {
        line,
        col,
        end_line,
        end_col,
    }
}

fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (to_u32(line), to_u32(col))
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_character_is_line_one_column_one() {
        let loc = locate("abc", 0..1);
        assert_eq!((loc.line, loc.col, loc.end_line, loc.end_col), (1, 1, 1, 1));
    }

    #[test]
    fn spans_across_lines_count_characters_not_bytes() {
        let text = "a = 1\né = \"x\"\n";
        let start = text.find('"').unwrap();
        let loc = locate(text, start..start + 3);
        assert_eq!((loc.line, loc.col, loc.end_line, loc.end_col), (2, 5, 2, 7));
    }

    #[test]
    fn spans_past_the_end_are_clamped() {
        let loc = locate("ab\n", 10..20);
        assert_eq!((loc.line, loc.col), (2, 1));
    }
}
