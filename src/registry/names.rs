//! Repository names and tags, validated as the distribution spec says.

/// Longest repository name accepted (Docker's limit).
const MAX_NAME_LEN: usize = 255;
/// Longest tag accepted.
const MAX_TAG_LEN: usize = 128;

/// True for a repository name such as `library/busybox` or `a/b-c/d.e`: lowercase alphanumeric
/// components separated by `/`, each made of alphanumeric runs joined by `.`, `_`, `__` or `-`…
/// (so `..`, absolute paths, empty segments and uppercase letters are rejected).
pub fn valid_repository(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME_LEN && name.split('/').all(valid_component)
}

/// One `/`-separated component: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn valid_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    loop {
        let run = i;
        while i < bytes.len() && alnum(bytes[i]) {
            i += 1;
        }
        if i == run {
            return false; // empty, or starts/ends with a separator
        }
        if i == bytes.len() {
            return true;
        }
        let sep = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &bytes[sep..i];
        let ok = sep == b"." || sep == b"_" || sep == b"__" || sep.iter().all(|&b| b == b'-');
        if !ok {
            return false;
        }
    }
}

/// True for a tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn valid_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
    first_ok
        && tag.len() <= MAX_TAG_LEN
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_repository_names() {
        for name in [
            "busybox",
            "library/busybox",
            "a/b/c",
            "coldbench-test/sk",
            "a.b_c__d---e/f0",
            "0",
        ] {
            assert!(valid_repository(name), "{name}");
        }
    }

    #[test]
    fn bad_repository_names() {
        for name in [
            "", "../x", "/abs", "A", "a//b", "a/", "a/../b", "..", ".a", "a.", "a___b", "a_-b",
            "a b", "a/B", "-a", "a/.", "a:b", "a%2fb",
        ] {
            assert!(!valid_repository(name), "{name}");
        }
        assert!(!valid_repository(&"a".repeat(256)));
    }

    #[test]
    fn tags() {
        for tag in ["v1", "latest", "_x", "1.0-rc.1", "A_b"] {
            assert!(valid_tag(tag), "{tag}");
        }
        for tag in ["", ".x", "-x", "a/b", "a:b", "sha256:ab"] {
            assert!(!valid_tag(tag), "{tag}");
        }
        assert!(valid_tag(&"a".repeat(128)) && !valid_tag(&"a".repeat(129)));
    }
}
