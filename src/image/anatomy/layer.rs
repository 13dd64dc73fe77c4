//! Streaming one layer blob: decompress (gzip or none), walk the tar, count, collect changes.

use std::io::{self, Read};

use tar::EntryType;

use super::fs::{normalize, FinalFs, Kind, LayerChanges, Node};
use super::AnatomyError;

/// Gzip magic bytes.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Zstandard magic bytes.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// Name of the file that makes its directory opaque.
const OPAQUE: &str = ".wh..wh..opq";
/// Prefix of a whiteout file.
const WHITEOUT: &str = ".wh.";

/// What streaming a layer found.
#[derive(Debug, Default)]
pub(super) struct LayerScan {
    /// Bytes of the uncompressed tar stream.
    pub uncompressed_size: u64,
    /// Regular files in the layer (whiteouts not counted).
    pub files: u64,
    /// What the layer does to the filesystem below it.
    pub changes: LayerChanges,
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// Reads up to `N` bytes (fewer only at end of stream).
fn read_head<const N: usize>(reader: &mut impl Read) -> io::Result<([u8; N], usize)> {
    let mut head = [0u8; N];
    let mut filled = 0;
    while filled < N {
        match reader.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((head, filled))
}

/// Streams the layer `blob` (named `what` in errors); `lower` resolves hard links to lower layers.
pub(super) fn scan(
    blob: impl Read,
    what: &str,
    lower: &FinalFs,
) -> Result<LayerScan, AnatomyError> {
    let invalid = |e: io::Error| AnatomyError::Invalid(format!("{what}: {e}"));
    let mut blob = io::BufReader::with_capacity(256 * 1024, blob);
    let (head, filled) = read_head::<4>(&mut blob).map_err(invalid)?;
    if filled == 4 && head == ZSTD_MAGIC {
        return Err(AnatomyError::Invalid(format!(
            "{what} is zstd-compressed: zstd layers are not supported yet"
        )));
    }
    let stream = io::Cursor::new(head[..filled].to_vec()).chain(blob);
    let tar: Box<dyn Read> = if filled >= 2 && head[..2] == GZIP_MAGIC {
        Box::new(flate2::read::MultiGzDecoder::new(stream))
    } else {
        Box::new(stream)
    };
    let mut counting = Counting {
        inner: tar,
        count: 0,
    };
    let mut scan = LayerScan::default();
    {
        let mut archive = tar::Archive::new(&mut counting);
        for entry in archive.entries().map_err(invalid)? {
            let entry = entry.map_err(invalid)?;
            record(&mut scan, &entry, lower);
        }
    }
    // The tar reader stops at the end-of-archive marker: count the padding after it too.
    io::copy(&mut counting, &mut io::sink()).map_err(invalid)?;
    scan.uncompressed_size = counting.count;
    Ok(scan)
}

/// Adds one tar entry to the layer's changes.
fn record<R: Read>(scan: &mut LayerScan, entry: &tar::Entry<'_, R>, lower: &FinalFs) {
    let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
    let Some(path) = normalize(&raw) else {
        return; // the root directory itself
    };
    let (parent, name) = match path.rsplit_once('/') {
        Some(("", name)) => ("/", name),
        Some((parent, name)) => (parent, name),
        None => ("/", path.as_str()),
    };
    if name == OPAQUE {
        scan.changes.opaque.push(parent.to_string());
        return;
    }
    if let Some(hidden) = name.strip_prefix(WHITEOUT) {
        if !hidden.starts_with(WHITEOUT) && !hidden.is_empty() {
            let target = if parent == "/" {
                format!("/{hidden}")
            } else {
                format!("{parent}/{hidden}")
            };
            scan.changes.whiteouts.push(target);
        }
        return; // whiteouts and other `.wh..wh.` metadata are not files
    }
    let header = entry.header();
    let node = match header.entry_type() {
        EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
            scan.files += 1;
            Node {
                kind: Kind::File,
                size: entry.size(),
            }
        }
        EntryType::Directory => Node {
            kind: Kind::Dir,
            size: 0,
        },
        EntryType::Symlink => Node {
            kind: Kind::Symlink(link_name(entry)),
            size: 0,
        },
        EntryType::Link => {
            let target = normalize(&link_name(entry)).unwrap_or_else(|| "/".to_string());
            let size = scan
                .changes
                .entries
                .get(&target)
                .or_else(|| lower.get(&target))
                .map_or(0, |n| n.size);
            Node {
                kind: Kind::Hardlink(target),
                size,
            }
        }
        EntryType::XGlobalHeader
        | EntryType::XHeader
        | EntryType::GNULongName
        | EntryType::GNULongLink => return,
        _ => Node {
            kind: Kind::Other,
            size: 0,
        },
    };
    scan.changes.entries.insert(path, node);
}

/// The link target of an entry, lossily decoded; empty when absent.
fn link_name<R: Read>(entry: &tar::Entry<'_, R>) -> String {
    entry
        .link_name_bytes()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}
