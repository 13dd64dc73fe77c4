//! What starting a node's own engine needs of this host: Linux, root, the engine's programs.

use std::path::PathBuf;

/// `Ok` on Linux as root; otherwise why not, naming `nodes` (`fresh nodes`, `containerd
/// nodes`) and what they run as root.
pub fn linux_root(nodes: &str, to_run: &str) -> Result<(), String> {
    if !cfg!(target_os = "linux") {
        return Err(format!("{nodes} need Linux"));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Err(format!("{nodes} need root (to run {to_run})"));
    }
    Ok(())
}

/// The program `name` on PATH, else in /usr/sbin or /usr/bin.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
