use super::*;

const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const C: &str = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

fn platform(p: &str) -> Platform {
    Platform::parse(p).unwrap()
}

fn image(name: &str) -> ImageRef {
    ImageRef::parse(name).unwrap()
}

fn sample() -> Lock {
    Lock {
        images: vec![
            LockedImage {
                name: image("gcr.io/distroless/static-debian12:nonroot"),
                digest: A.into(),
                platforms: BTreeMap::from([
                    (platform("linux/arm/v7"), B.into()),
                    (platform("linux/amd64"), C.into()),
                ]),
            },
            LockedImage {
                name: image("golang:1.26"),
                digest: B.into(),
                platforms: BTreeMap::from([(platform("linux/amd64"), B.into())]),
            },
        ],
    }
}

#[test]
fn render_and_parse_round_trip_sorted() {
    let text = sample().render();
    let parsed = Lock::parse("golb.lock", &text).unwrap();
    // Sorted by name on the way out: docker.io before gcr.io.
    assert_eq!(
        parsed.images[0].name.to_string(),
        "docker.io/library/golang:1.26"
    );
    assert_eq!(parsed.images.len(), 2);
    assert_eq!(parsed.render(), text);
    assert!(text.contains("\"linux/arm/v7\" = \"sha256:bbbb"), "{text}");
    // The same lock in another order renders to the same bytes.
    let mut reversed = sample();
    reversed.images.reverse();
    assert_eq!(reversed.render(), text);
}

#[test]
fn pins_per_platform_and_images_by_digest_need_no_entry() {
    let lock = sample();
    let base = image("gcr.io/distroless/static-debian12:nonroot");
    assert_eq!(
        lock.pin(&base, &platform("linux/amd64")),
        Ok(Pin::Locked(C))
    );
    assert_eq!(
        lock.pin(&base, &platform("linux/arm/v7")),
        Ok(Pin::Locked(B))
    );
    let err = lock.pin(&base, &platform("linux/arm64")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "golb.lock: gcr.io/distroless/static-debian12:nonroot is locked for linux/amd64, linux/arm/v7, not linux/arm64; run `golb lock` again"
    );
    assert_eq!(
        lock.pin(
            &image(&format!("golang:1.26@{A}")),
            &platform("linux/amd64")
        ),
        Ok(Pin::ByDigest)
    );
    assert_eq!(
        lock.pin(&image("golang:1.27"), &platform("linux/amd64")),
        Ok(Pin::NotLocked)
    );
}

#[test]
fn staleness_names_missing_and_unused_entries() {
    let lock = sample();
    let wanted = [
        image("golang:1.27"),
        image(&format!("gcr.io/distroless/static-debian12@{A}")),
    ];
    assert_eq!(
        lock.staleness(&wanted),
        Staleness {
            missing: vec!["docker.io/library/golang:1.27".into()],
            unused: vec![
                "gcr.io/distroless/static-debian12:nonroot".into(),
                "docker.io/library/golang:1.26".into()
            ],
        }
    );
    let fresh = [
        image("golang:1.26"),
        image("gcr.io/distroless/static-debian12:nonroot"),
    ];
    assert!(!lock.staleness(&fresh).is_stale());
}

#[test]
fn errors_name_line_and_column() {
    let cases = [
        ("version = 2\n", "golb.lock:1:11: golb.lock version 2 is not one this golb reads (1); run `golb lock` again"),
        (
            &format!("version = 1\n[[image]]\nname = \"golang:1.26\"\ndigest = \"sha256:abc\"\nplatforms = {{ \"linux/amd64\" = \"{A}\" }}\n"),
            "golb.lock:4:10: \"sha256:abc\" is not a sha256:<64 hex digits> digest",
        ),
        (
            &format!("version = 1\n[[image]]\nname = \"golang@{A}\"\ndigest = \"{A}\"\nplatforms = {{ \"linux/amd64\" = \"{A}\" }}\n"),
            "golb.lock:3:8: an image named by digest needs no lock entry",
        ),
        (
            &format!("version = 1\n[[image]]\nname = \"golang:1.26\"\ndigest = \"{A}\"\nplatforms = {{ \"linux\" = \"{A}\" }}\n"),
            "golb.lock:5:15: invalid platform \"linux\": expected os/arch or os/arch/variant",
        ),
        ("version = 1\nextra = true\n", "golb.lock:2:1: unknown field `extra`, expected `version` or `image`"),
    ];
    for (text, want) in cases {
        let err = Lock::parse("golb.lock", text).unwrap_err().to_string();
        assert_eq!(err, want, "{text}");
    }
    let twice = format!(
        "version = 1\n[[image]]\nname = \"golang:1.26\"\ndigest = \"{A}\"\nplatforms = {{ \"linux/amd64\" = \"{A}\" }}\n[[image]]\nname = \"docker.io/library/golang:1.26\"\ndigest = \"{A}\"\nplatforms = {{ \"linux/amd64\" = \"{A}\" }}\n"
    );
    assert!(Lock::parse("golb.lock", &twice)
        .unwrap_err()
        .to_string()
        .contains("locked twice"));
}

#[test]
fn the_lock_lives_beside_the_spec() {
    assert_eq!(beside_spec("golb.toml"), "golb.lock");
    assert_eq!(
        beside_spec("services/api/golb.toml"),
        "services/api/golb.lock"
    );
    assert_eq!(beside_spec("/abs/dir/api.toml"), "/abs/dir/golb.lock");
}
