//! Glob patterns for quoted arguments (`'results/nightly-*'`): `*` (any characters) and `?`
//! (one character) inside path components, matched by hand; no brackets, no `**`. Names
//! starting with `.` are matched only by a pattern that starts with `.`.

use std::path::{Component, Path, PathBuf};

/// True when some component of `path` holds `*` or `?`.
pub(super) fn has_wildcard(path: &Path) -> bool {
    path.components().any(|c| match c {
        Component::Normal(s) => s.to_str().is_some_and(is_pattern),
        _ => false,
    })
}

/// The directories `pattern` matches, sorted; directories that cannot be listed match nothing.
pub(super) fn expand(pattern: &Path) -> Vec<PathBuf> {
    let mut found = vec![PathBuf::new()];
    for component in pattern.components() {
        let part = match component {
            Component::Normal(s) => s,
            other => {
                for p in &mut found {
                    p.push(other.as_os_str());
                }
                continue;
            }
        };
        match part.to_str().filter(|s| is_pattern(s)) {
            Some(glob) => found = found.iter().flat_map(|dir| children(dir, glob)).collect(),
            None => {
                for p in &mut found {
                    p.push(part);
                }
            }
        }
    }
    found.retain(|p| p.is_dir());
    found
}

/// `dir`'s entries whose names match `glob`, sorted.
fn children(dir: &Path, glob: &str) -> Vec<PathBuf> {
    let listed = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(listed) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|name| (glob.starts_with('.') || !name.starts_with('.')) && matches(glob, name))
        .map(|name| dir.join(name))
        .collect();
    out.sort();
    out
}

/// True when `s` holds a wildcard.
fn is_pattern(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// True when `name` matches `glob` (`*` any run of characters, `?` one character).
pub(super) fn matches(glob: &str, name: &str) -> bool {
    let p: Vec<char> = glob.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    // The last `*` seen, and the name position it currently stands for.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    star = Some((sp, sn + 1));
                    pi = sp + 1;
                    ni = sn + 1;
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}
