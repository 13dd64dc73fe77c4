//! Build contexts: checked against the scenario's directory tree, filtered by `.dockerignore`
//! (the engine's rules) and streamed to the engine as a tar in constant memory.

use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::mpsc;

mod ignore;

pub use ignore::Ignore;

/// Bytes per chunk sent to the engine.
pub const CHUNK: usize = 64 * 1024;
/// Chunks in flight between the tar writer and the engine (so at most ~`CHUNKS` × `CHUNK`).
pub const CHUNKS: usize = 8;

/// Resolves `context` (as written in the scenario) against `base_dir`, the scenario file's
/// directory. Relative contexts must resolve, after `..` and symlinks, inside the parent of
/// `base_dir` (so `scenarios/x.toml` may use `../examples/app`); absolute ones are taken as
/// given; `/` is always refused.
pub fn resolve(base_dir: &Path, context: &str) -> Result<PathBuf, String> {
    let given = Path::new(context);
    let joined = base_dir.join(given);
    let real = joined
        .canonicalize()
        .map_err(|e| format!("build context {}: {e}", joined.display()))?;
    if real.parent().is_none() {
        return Err(format!(
            "build context {context:?} resolves to / and is refused: the whole filesystem is never sent"
        ));
    }
    if given.is_absolute() {
        return Ok(real);
    }
    let base = base_dir
        .canonicalize()
        .map_err(|e| format!("scenario directory {}: {e}", base_dir.display()))?;
    let root = base.parent().unwrap_or(&base);
    // Inside the scenario's directory is always fine; its parent only when that is not `/`.
    if real.starts_with(&base) || (real.starts_with(root) && root.parent().is_some()) {
        Ok(real)
    } else {
        Err(format!(
            "build context {context:?} resolves to {} and is refused: a relative context must stay \
             inside {} (the scenario directory's parent) after `..` and symlinks; give an absolute path to build elsewhere",
            real.display(),
            root.display()
        ))
    }
}

/// True when `file` (as in `dockerfile.file`) is relative and never climbs with `..`.
pub fn file_inside(file: &str) -> bool {
    let p = Path::new(file);
    !p.is_absolute()
        && p.components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Writes the context at `dir` as a tar into `out`: `.dockerignore` honoured (Dockerfile and
/// `.dockerignore` still sent), entries sorted, symlinks kept, sparse files written in full.
pub fn write_tar<W: Write>(dir: &Path, dockerfile: &str, out: W) -> io::Result<W> {
    let ignore = Ignore::load(dir, dockerfile)?;
    let mut builder = tar::Builder::new(out);
    builder.follow_symlinks(false);
    builder.sparse(false);
    add_dir(&mut builder, dir, "", &ignore)?;
    builder.into_inner()
}

/// Appends the entries below `dir` (named `rel/…` in the archive), depth first, sorted.
fn add_dir<W: Write>(
    builder: &mut tar::Builder<W>,
    dir: &Path,
    rel: &str,
    ignore: &Ignore,
) -> io::Result<()> {
    let mut names: Vec<_> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<io::Result<_>>()?;
    names.sort();
    for name in names {
        let Some(name) = name.to_str() else {
            return Err(io::Error::other(format!(
                "{}: file names in a build context must be UTF-8",
                dir.join(&name).display()
            )));
        };
        let path = dir.join(name);
        let rel = if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        };
        let is_dir = std::fs::symlink_metadata(&path)?.is_dir();
        if ignore.excludes(&rel) {
            if is_dir && ignore.may_keep_below(&rel) {
                add_dir(builder, &path, &rel, ignore)?;
            }
            continue;
        }
        builder.append_path_with_name(&path, &rel)?;
        if is_dir {
            add_dir(builder, &path, &rel, ignore)?;
        }
    }
    Ok(())
}

/// A `Write` that cuts what it gets into [`CHUNK`]-sized pieces on a bounded channel.
pub struct ChunkSender {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
    sent: Arc<AtomicU64>,
}

impl ChunkSender {
    /// A sender on `tx`; `sent` counts the bytes handed to the channel.
    pub fn new(tx: mpsc::Sender<io::Result<Bytes>>, sent: Arc<AtomicU64>) -> Self {
        ChunkSender {
            tx,
            buf: Vec::with_capacity(CHUNK),
            sent,
        }
    }

    fn send_buf(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        let len = chunk.len() as u64;
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the engine stopped reading"))?;
        self.sent.fetch_add(len, Ordering::Relaxed);
        Ok(())
    }

    /// Sends what is left and reports `result` of the writer to the reading side.
    pub fn finish(mut self, result: io::Result<()>) -> io::Result<()> {
        let result = result.and_then(|_| self.send_buf());
        if let Err(e) = &result {
            let _ = self
                .tx
                .blocking_send(Err(io::Error::new(e.kind(), e.to_string())));
        }
        result
    }
}

impl Write for ChunkSender {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.send_buf()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The receiving end as a stream of chunks.
pub struct ChunkStream(pub mpsc::Receiver<io::Result<Bytes>>);

impl Stream for ChunkStream {
    type Item = io::Result<Bytes>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// Starts writing the context's tar on a blocking thread; returns the chunk stream and the
/// writer's handle (its result tells whether the archive was complete).
pub fn stream(
    dir: PathBuf,
    dockerfile: String,
    sent: Arc<AtomicU64>,
) -> (ChunkStream, tokio::task::JoinHandle<io::Result<()>>) {
    let (tx, rx) = mpsc::channel(CHUNKS);
    let handle = tokio::task::spawn_blocking(move || {
        let mut out = ChunkSender::new(tx, sent);
        let result = write_tar(&dir, &dockerfile, &mut out).map(|_| ());
        out.finish(result)
    });
    (ChunkStream(rx), handle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn tree(dir: &Path) {
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        std::fs::write(dir.join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(dir.join("a/b/big"), vec![7u8; 3 * 1024 * 1024]).unwrap();
        std::fs::write(dir.join("a/small"), "x").unwrap();
        std::os::unix::fs::symlink("a/small", dir.join("link")).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn context_streaming_buffers_a_bounded_number_of_chunks() {
        let dir = tempfile::tempdir().unwrap();
        tree(dir.path());
        let sent = Arc::new(AtomicU64::new(0));
        let (mut rx, handle) = stream(dir.path().into(), "Dockerfile".into(), sent.clone());
        // Nobody reads: the writer must stop once the channel is full.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let early = sent.load(Ordering::Relaxed);
        assert!(early <= (CHUNKS * CHUNK) as u64, "{early} bytes in flight");
        let mut streamed = Vec::new();
        while let Some(chunk) = rx.next().await {
            streamed.extend_from_slice(&chunk.unwrap());
        }
        handle.await.unwrap().unwrap();
        let whole = write_tar(dir.path(), "Dockerfile", Vec::new()).unwrap();
        assert!(whole.len() > 3 * 1024 * 1024);
        assert_eq!(streamed, whole, "streaming changes no byte");
    }

    #[test]
    fn context_tar_lists_sorted_entries_with_symlinks_kept() {
        let dir = tempfile::tempdir().unwrap();
        tree(dir.path());
        let tar = write_tar(dir.path(), "Dockerfile", Vec::new()).unwrap();
        let mut archive = tar::Archive::new(&tar[..]);
        let entries: Vec<(String, tar::EntryType)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let p = e.path().unwrap().to_string_lossy().into_owned();
                (p, e.header().entry_type())
            })
            .collect();
        let names: Vec<&str> = entries.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            names,
            ["Dockerfile", "a", "a/b", "a/b/big", "a/small", "link"]
        );
        assert_eq!(entries[5].1, tar::EntryType::Symlink);
    }

    #[test]
    fn a_sparse_file_becomes_a_regular_entry_of_full_length() {
        let dir = tempfile::tempdir().unwrap();
        let f = std::fs::File::create(dir.path().join("sparse")).unwrap();
        f.set_len(4 * 1024 * 1024).unwrap();
        std::os::unix::fs::FileExt::write_at(&f, b"end", 4 * 1024 * 1024 - 3).unwrap();
        let tar = write_tar(dir.path(), "Dockerfile", Vec::new()).unwrap();
        let mut archive = tar::Archive::new(&tar[..]);
        let e = archive.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(e.header().entry_type(), tar::EntryType::Regular);
        assert_eq!(e.size(), 4 * 1024 * 1024);
    }

    #[test]
    fn contexts_resolve_inside_the_scenario_tree_only() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("p/scenarios");
        std::fs::create_dir_all(&base).unwrap();
        std::fs::create_dir_all(dir.path().join("p/app")).unwrap();
        std::fs::create_dir_all(dir.path().join("out")).unwrap();
        assert!(resolve(&base, "../app").is_ok());
        assert!(resolve(&base, ".").is_ok());
        let abs = dir.path().join("out");
        assert!(resolve(&base, abs.to_str().unwrap()).is_ok());
        for bad in ["/", "/..", "../../out", "../../../../../../../../.."] {
            let e = resolve(&base, bad).unwrap_err();
            assert!(e.contains("refused"), "{bad}: {e}");
        }
        assert!(resolve(&base, "missing").is_err());
        assert!(file_inside("sub/Dockerfile.x"));
        assert!(!file_inside("../Dockerfile"));
        assert!(!file_inside("/etc/passwd"));
    }

    #[test]
    fn a_scenario_in_a_top_level_directory_may_use_its_own_subdirectories() {
        // /tmp's parent is `/`: the parent rule gives nothing there, but the scenario's own
        // directory still holds usable contexts.
        let top = Path::new("/tmp");
        let app = tempfile::tempdir_in(top).unwrap();
        let name = app.path().file_name().unwrap().to_str().unwrap();
        assert!(resolve(top, name).is_ok(), "{:?}", resolve(top, name));
        assert!(resolve(top, "..").unwrap_err().contains("refused"));
    }
}
