use super::*;

#[test]
fn go_bytes_are_standard_base64_with_padding() {
    for (plain, encoded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("name = 1\n", "bmFtZSA9IDEK"),
    ] {
        assert_eq!(go_bytes(plain.as_bytes()), encoded, "{plain:?}");
    }
    assert_eq!(go_bytes(&[0xfb, 0xff]), "+/8=");
}

#[test]
fn tabwriter_pads_every_cell_but_the_last() {
    let rows = vec![
        vec!["NAME".to_string(), "V".to_string(), "D".to_string()],
        vec!["x".to_string(), "1.0.0".to_string(), "é".to_string()],
    ];
    assert_eq!(tabwriter(&rows, 1), "NAME V     D\nx    1.0.0 é\n");
    assert_eq!(
        tabwriter(
            &[
                vec!["SECRET".into(), "REQUIRED".into()],
                vec!["id".into(), String::new()]
            ],
            3
        ),
        "SECRET   REQUIRED\nid       \n"
    );
}

#[test]
fn source_printing_follows_buildkits_padding() {
    let source = PbSourceInfo {
        filename: "f".into(),
        data: String::new(),
        language: String::new(),
        text: "1\n2\n3\n4\n5\n6\n7\n8\n9".into(),
    };
    let range = |start: i32, end: i32| PbRange {
        start: PbPosition {
            line: start,
            character: 0,
        },
        end: PbPosition {
            line: end,
            character: 0,
        },
    };
    // One line: up to four lines of context in all, taken from both sides.
    let one = print_source(&source, &[range(5, 5)]);
    assert_eq!(
        one.lines()
            .filter(|l| l.contains(" | "))
            .map(|l| l[..4].trim().to_string())
            .collect::<Vec<_>>(),
        ["3", "4", "5", "6", "7"]
    );
    // At the top, the context comes from below; several lines get less.
    let top = print_source(&source, &[range(1, 1)]);
    assert!(
        top.starts_with("f:1\n") && top.contains("   3 |") && !top.contains("   4 |"),
        "{top}"
    );
    let span = print_source(&source, &[range(4, 6)]);
    assert!(
        span.contains("   3 |") && span.contains("   7 |") && !span.contains("   2 |"),
        "{span}"
    );
    assert_eq!(
        print_source(&source, &[range(42, 42)]),
        "",
        "past the end: nothing"
    );
    assert_eq!(print_source(&source, &[]), "");
}
