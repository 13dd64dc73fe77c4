//! Free-space checks before large writes (synthetic layers, exported images).

use std::path::Path;

use super::ImageError;

/// Room kept free on top of what is about to be written.
pub const MARGIN_BYTES: u64 = 256 * 1024 * 1024;
/// Extra share of what is about to be written, in percent.
pub const MARGIN_PERCENT: u64 = 10;

/// Bytes needed on disk to write `bytes`: plus [`MARGIN_PERCENT`] and [`MARGIN_BYTES`].
pub fn with_margin(bytes: u64) -> u64 {
    bytes
        .saturating_add(bytes / 100 * MARGIN_PERCENT)
        .saturating_add(MARGIN_BYTES)
}

/// Free bytes (for unprivileged users) of the filesystem holding `dir`.
pub fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other("a path with a NUL byte"))?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a writable statvfs.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

/// Fails with [`ImageError::NoSpace`] unless `dir`'s filesystem can take `bytes` (for
/// `what`) plus the margin.
pub fn ensure(dir: &Path, bytes: u64, what: &str) -> Result<(), ImageError> {
    let free = free_bytes(dir).map_err(|source| ImageError::Io {
        what: format!("checking the free space in {}", dir.display()),
        source,
    })?;
    let needed = with_margin(bytes);
    if free < needed {
        return Err(ImageError::NoSpace {
            what: what.to_string(),
            dir: dir.to_path_buf(),
            needed,
            free,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_is_checked_with_a_margin() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_bytes(dir.path()).unwrap() > 0);
        assert!(
            ensure(dir.path(), 0, "nothing").is_ok()
                || free_bytes(dir.path()).unwrap() < MARGIN_BYTES
        );
        let e = ensure(dir.path(), u64::MAX, "everything")
            .unwrap_err()
            .to_string();
        assert!(e.contains("everything") && e.contains("free"), "{e}");
        assert_eq!(with_margin(u64::MAX), u64::MAX);
        assert_eq!(with_margin(1000), 1100 + MARGIN_BYTES);
        assert!(free_bytes(Path::new("/no/such/dir")).is_err());
    }
}
