//! `[containerd] node_sockets`: CRI sockets of running containerds, checked where the scenario
//! names them — their form always, and, when the run uses them (`driver = "containerd"`), that
//! each is a unix socket on this host.

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use super::{ContainerdSettings, Invalid};
use crate::units::clip;

/// Longest unix socket path (`sun_path` is 108 bytes with its NUL).
pub const MAX_SOCKET_PATH: usize = 107;

/// What a socket entry should look like, for error messages.
const EXPECTED: &str =
    "expected the absolute path of a containerd CRI socket, e.g. \"/run/containerd/containerd.sock\" (or \"unix:///run/containerd/containerd.sock\")";

/// The socket path `entry` names (`/path` or `unix:///path`), or what is wrong with it.
pub fn socket_path(entry: &str) -> Result<PathBuf, String> {
    let path = entry.strip_prefix("unix://").unwrap_or(entry);
    let problem = if path.is_empty() {
        "the socket path is empty".to_string()
    } else if path.chars().any(char::is_control) {
        format!("{:?} contains control characters", clip(entry))
    } else if !path.starts_with('/') {
        format!("{:?} is not an absolute path", clip(entry))
    } else if path.len() > MAX_SOCKET_PATH {
        format!(
            "{:?} is {} bytes long: a unix socket path has at most {MAX_SOCKET_PATH}",
            clip(entry),
            path.len()
        )
    } else {
        return Ok(PathBuf::from(path));
    };
    Err(format!("{problem}; {EXPECTED}"))
}

/// Whether `path` is a unix socket now; `Err` says what it is instead and what to do.
pub fn check_is_socket(path: &Path) -> Result<(), String> {
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(m) if m.file_type().is_socket() => Ok(()),
        Ok(m) => {
            let what = if m.is_dir() {
                "a directory"
            } else if m.is_file() {
                "a regular file"
            } else {
                "not a file"
            };
            Err(format!(
                "{shown} is {what}, not a unix socket: give the socket containerd listens on (its config's [grpc] address)"
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "{shown} does not exist: start that containerd, or give the socket it listens on (its config's [grpc] address, usually /run/containerd/containerd.sock)"
        )),
        Err(e) => Err(format!(
            "cannot inspect {shown}: {e} (run as a user who may use the socket, e.g. root)"
        )),
    }
}

/// Each entry's form and that no socket is listed twice (a node is a containerd of its own);
/// with `on_disk`, also that each is a unix socket; and, for a burst of `burst_nodes`, one
/// socket per node.
pub(super) fn check(
    settings: &ContainerdSettings,
    on_disk: bool,
    burst_nodes: Option<&toml::Spanned<u32>>,
) -> Result<(), Invalid> {
    let mut seen: Vec<PathBuf> = Vec::new();
    for (i, entry) in settings.node_sockets.iter().enumerate() {
        let located = |message: String| {
            (
                Some(entry.span()),
                format!("containerd.node_sockets[{i}]"),
                message,
            )
        };
        let path = socket_path(entry.get_ref()).map_err(located)?;
        if let Some(first) = seen.iter().position(|p| *p == path) {
            return Err(located(format!(
                "{} is also node_sockets[{first}]: each node needs a containerd of its own",
                path.display()
            )));
        }
        seen.push(path.clone());
        if on_disk {
            check_is_socket(&path).map_err(located)?;
        }
    }
    let sockets = settings.node_sockets.len();
    match burst_nodes {
        Some(nodes) if on_disk && sockets > 0 && sockets != *nodes.get_ref() as usize => Err((
            Some(nodes.span()),
            "containerd.node_sockets".into(),
            format!(
                "{sockets} node_sockets for burst.nodes = {}: give one socket per node",
                nodes.get_ref()
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_paths_take_both_forms() {
        let p = PathBuf::from("/run/containerd/containerd.sock");
        assert_eq!(
            socket_path("/run/containerd/containerd.sock"),
            Ok(p.clone())
        );
        assert_eq!(socket_path("unix:///run/containerd/containerd.sock"), Ok(p));
    }

    #[test]
    fn bad_socket_paths_say_why_and_what_is_expected() {
        for (entry, why) in [
            ("", "empty"),
            ("unix://", "empty"),
            ("run/c.sock", "not an absolute path"),
            ("unix://c.sock", "not an absolute path"),
            ("/a\nb", "control characters"),
        ] {
            let e = socket_path(entry).unwrap_err();
            assert!(
                e.contains(why) && e.contains("expected the absolute path"),
                "{e}"
            );
        }
        let long = format!("/{}", "a".repeat(MAX_SOCKET_PATH));
        assert!(socket_path(&long).unwrap_err().contains("at most 107"));
    }

    #[test]
    fn only_a_socket_is_a_socket() {
        let dir = tempfile::tempdir().unwrap();
        let e = check_is_socket(dir.path()).unwrap_err();
        assert!(e.contains("a directory, not a unix socket"), "{e}");
        let file = dir.path().join("f");
        std::fs::write(&file, "").unwrap();
        assert!(check_is_socket(&file)
            .unwrap_err()
            .contains("a regular file"));
        let missing = check_is_socket(&dir.path().join("gone")).unwrap_err();
        assert!(
            missing.contains("does not exist: start that containerd"),
            "{missing}"
        );
        let socket = dir.path().join("s.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        assert_eq!(check_is_socket(&socket), Ok(()));
    }
}
