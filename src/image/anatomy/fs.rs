//! The final filesystem of an image: layers applied in order, whiteouts honoured.
//!
//! Only metadata is kept (path → kind and size), never file contents.

use std::collections::BTreeMap;

/// What a path is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link, with its target as written.
    Symlink(String),
    /// A hard link to another path (normalized).
    Hardlink(String),
    /// Devices, fifos and anything else.
    Other,
}

/// One path of the filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Node {
    pub kind: Kind,
    /// Size of a regular file (for a hard link, of its target when known); 0 otherwise.
    pub size: u64,
}

/// What one layer changes: its entries, the paths it deletes and the directories it makes opaque.
#[derive(Debug, Default)]
pub(super) struct LayerChanges {
    pub entries: BTreeMap<String, Node>,
    pub whiteouts: Vec<String>,
    pub opaque: Vec<String>,
}

/// Absolute, normalized form of a tar path: `./usr/bin/` → `/usr/bin`; `None` for the root.
pub(super) fn normalize(raw: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        None
    } else {
        Some(format!("/{}", parts.join("/")))
    }
}

/// The prefix shared by everything under `dir` (`/` for the root).
fn children_prefix(dir: &str) -> String {
    if dir == "/" {
        "/".to_string()
    } else {
        format!("{dir}/")
    }
}

/// Merged view of the layers applied so far.
#[derive(Debug, Default)]
pub(super) struct FinalFs {
    nodes: BTreeMap<String, Node>,
}

impl FinalFs {
    /// Applies the next (upper) layer.
    pub fn apply(&mut self, changes: LayerChanges) {
        for dir in &changes.opaque {
            self.remove_under(dir);
        }
        for path in &changes.whiteouts {
            self.nodes.remove(path);
            self.remove_under(path);
        }
        for (path, node) in changes.entries {
            let replaces_dir = node.kind != Kind::Dir
                && self.nodes.get(&path).is_some_and(|n| n.kind == Kind::Dir);
            if replaces_dir {
                self.remove_under(&path);
            }
            self.nodes.insert(path, node);
        }
    }

    /// Removes everything below `dir` (not `dir` itself).
    fn remove_under(&mut self, dir: &str) {
        let prefix = children_prefix(dir);
        let doomed: Vec<String> = self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .map(|(p, _)| p.clone())
            .collect();
        for path in doomed {
            self.nodes.remove(&path);
        }
    }

    /// The node at exactly `path` (no symlink resolution).
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// The node at `path`, following symlinks in its directories (not in its last component),
    /// so that `/bin/sh` is found in a usr-merged image where `/bin` → `usr/bin`.
    pub fn lookup(&self, path: &str) -> Option<&Node> {
        let mut parts: Vec<String> = match normalize(path) {
            Some(p) => p[1..].split('/').map(str::to_string).collect(),
            None => return None,
        };
        let mut hops = 0;
        let mut i = 0;
        while i + 1 < parts.len() {
            let prefix = format!("/{}", parts[..=i].join("/"));
            if let Some(Node {
                kind: Kind::Symlink(target),
                ..
            }) = self.nodes.get(&prefix)
            {
                hops += 1;
                if hops > 40 {
                    return None;
                }
                let base = if target.starts_with('/') {
                    String::new()
                } else {
                    parts[..i].join("/")
                };
                let rest = parts[i + 1..].join("/");
                let joined = format!("/{base}/{target}/{rest}");
                parts = match normalize(&joined) {
                    Some(p) => p[1..].split('/').map(str::to_string).collect(),
                    None => return None,
                };
                i = 0;
            } else {
                i += 1;
            }
        }
        self.nodes.get(&format!("/{}", parts.join("/")))
    }

    /// True when `path` exists (directories resolved through symlinks).
    pub fn exists(&self, path: &str) -> bool {
        self.lookup(path).is_some()
    }

    /// True when something exists below `dir` (so `dir` is a directory with content).
    pub fn dir_has_content(&self, dir: &str) -> bool {
        let prefix = children_prefix(dir);
        self.nodes
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(p, _)| p.starts_with(&prefix))
    }

    /// Regular files, in path order.
    pub fn files(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.nodes.iter().filter(|(_, n)| n.kind == Kind::File)
    }
}
