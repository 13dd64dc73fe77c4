//! Deterministic synthetic images: filler layers of a chosen compressed size and
//! compressibility, topped by a layer holding the static `coldbench-hello` entrypoint.
//!
//! Same spec and variant name → same bytes → same digests, on any machine: tar headers carry
//! fixed times and owners, gzip carries no timestamp, and the filler comes from a seeded
//! ChaCha8 stream (whose output `rand_chacha` keeps stable across versions).

use std::io::{self, Read};

use flate2::write::GzEncoder;
use flate2::Compression;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::hashing::HashingWriter;
use super::oci::{self, History, ImageConfig, RootFs, RuntimeConfig};
use super::{ImageError, LayerInfo, StoredImage, HELLO_BINARY, REPO_PREFIX};
use crate::registry::Store;
use crate::scenario::SynthSpec;

/// Filler is generated in blocks of this size: a random head, then zeros.
const BLOCK: usize = 64 * 1024;
/// Largest single filler file.
const MAX_FILE: u64 = 64 * 1024 * 1024;
/// Path of the entrypoint inside the image.
pub const HELLO_PATH: &str = "/coldbench-hello";

/// Builds the synthetic image for `variant` into `store` as `coldbench/<variant>:latest`.
pub fn build(store: &Store, variant: &str, spec: &SynthSpec) -> Result<StoredImage, ImageError> {
    if HELLO_BINARY.is_empty() {
        return Err(ImageError::NoHelloBinary);
    }
    super::space::ensure(
        store.dir(),
        spec.size.0,
        &format!("synthetic image {variant:?}"),
    )?;
    let seed = spec.seed.unwrap_or_else(|| name_seed(variant));
    let layer_count = (*spec.layers.get_ref()).max(1) as usize;
    let compressibility = *spec.compressibility.get_ref();
    let marker = format!("variant={variant}\nseed={seed}\n");

    // The entrypoint layer alone tells how much of the budget is left for filler.
    let app_files = [
        FileSpec::bytes("coldbench-hello", 0o755, HELLO_BINARY),
        FileSpec::bytes("etc/coldbench-variant", 0o644, marker.as_bytes()),
    ];
    let app_only = write_layer(store, &app_files, None, "entrypoint")?;
    let needed = app_only.size;
    let total = spec.size.0;
    if total < needed {
        return Err(ImageError::TooSmall {
            variant: variant.to_string(),
            size: total,
            needed,
        });
    }
    let filler_budget = total - needed;

    let mut layers = Vec::with_capacity(layer_count);
    if layer_count == 1 {
        let filler = Filler::new(filler_budget, compressibility, seed, 0);
        layers.push(write_layer(store, &app_files, Some(filler), "entrypoint")?);
    } else {
        let n = (layer_count - 1) as u64;
        for i in 0..n {
            let share = filler_budget / n + u64::from(i < filler_budget % n);
            let filler = Filler::new(share, compressibility, seed, i + 1);
            let label = format!("filler {}/{n}", i + 1);
            layers.push(write_layer(store, &[], Some(filler), &label)?);
        }
        layers.push(app_only);
    }

    let config = hello_config(&layers, "HOST=127.0.0.1");
    let config_bytes =
        serde_json::to_vec(&config).map_err(|e| ImageError::Json("image config", e))?;
    let repository = format!("{REPO_PREFIX}/{variant}");
    super::local::store_image(store, &repository, "latest", &config_bytes, layers)
}

/// The config of an image of `layers` whose entrypoint is `coldbench-hello`, with `PATH=/` and
/// `env` in its environment; fixed creation time, so digests are reproducible.
fn hello_config(layers: &[LayerInfo], env: &str) -> ImageConfig {
    ImageConfig {
        created: Some("1970-01-01T00:00:00Z".into()),
        architecture: oci::host_architecture().into(),
        os: "linux".into(),
        config: RuntimeConfig {
            user: None,
            env: Some(vec!["PATH=/".into(), env.into()]),
            entrypoint: Some(vec![HELLO_PATH.into()]),
            cmd: None,
        },
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: layers.iter().map(|l| l.diff_id.clone()).collect(),
        },
        history: layers
            .iter()
            .map(|l| History {
                created_by: Some(l.created_by.clone()),
                empty_layer: None,
            })
            .collect(),
    }
}

/// Repository of the harness's pause (pod sandbox) image in its registry.
pub const PAUSE_REPOSITORY: &str = "coldbench-pause/pause";

/// Builds the pod sandbox image containerd nodes pin, as `coldbench-pause/pause:latest`: one
/// layer holding `coldbench-hello`, run with `COLDBENCH_PAUSE=1` so it only sleeps until killed.
/// It lives outside the `coldbench/` namespace, so evicting the harness's images never touches it.
pub fn build_pause(store: &Store) -> Result<StoredImage, ImageError> {
    if HELLO_BINARY.is_empty() {
        return Err(ImageError::NoHelloBinary);
    }
    let files = [FileSpec::bytes("coldbench-hello", 0o755, HELLO_BINARY)];
    let layer = write_layer(store, &files, None, "pause")?;
    let config = hello_config(std::slice::from_ref(&layer), "COLDBENCH_PAUSE=1");
    let config_bytes =
        serde_json::to_vec(&config).map_err(|e| ImageError::Json("pause image config", e))?;
    super::local::store_image(
        store,
        PAUSE_REPOSITORY,
        "latest",
        &config_bytes,
        vec![layer],
    )
}

/// A stable 64-bit seed from a variant name (FNV-1a).
fn name_seed(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A small file placed in a layer.
struct FileSpec<'a> {
    path: &'a str,
    mode: u32,
    data: &'a [u8],
}

impl<'a> FileSpec<'a> {
    fn bytes(path: &'a str, mode: u32, data: &'a [u8]) -> Self {
        FileSpec { path, mode, data }
    }
}

/// Filler content for one layer: enough uncompressed bytes that gzip leaves about `target`.
struct Filler {
    target: u64,
    uncompressed: u64,
    random_per_block: usize,
    rng: ChaCha8Rng,
    index: u64,
}

/// How filler of a given compressibility is made: random bytes at the head of each block, and
/// the compressed bytes one block costs.
#[derive(Debug, Clone, Copy)]
struct Shape {
    random_per_block: usize,
    per_block: f64,
}

impl Shape {
    fn of(compressibility: f64) -> Shape {
        // Zeros cost a little too: solve r + z·(B − r) = (1 − c)·B for the random head r.
        let keep = (1.0 - compressibility).clamp(0.05, 1.0);
        let z = compressed_block_size(0) / BLOCK as f64;
        let r = (BLOCK as f64 * (keep - z) / (1.0 - z)).clamp(0.0, BLOCK as f64);
        let random_per_block = r.round() as usize;
        Shape {
            random_per_block,
            per_block: compressed_block_size(random_per_block),
        }
    }

    /// Uncompressed filler bytes that gzip to about `target`.
    fn uncompressed(&self, target: u64) -> u64 {
        (target as f64 * BLOCK as f64 / self.per_block).round() as u64
    }
}

/// Compressed and uncompressed bytes of the entrypoint layer alone (the `coldbench-hello`
/// binary and the variant marker), as real runs stored it (`tests/fixtures/run-quickstart.json`).
pub const ENTRYPOINT_LAYER: (u64, u64) = (733_529, 1_396_224);

/// Config bytes of a synthetic image: a fixed part and one history and diff-id entry per layer
/// (1,165 bytes for 6 layers, 368 for 1 in real runs).
fn config_bytes(layers: u64) -> u64 {
    200 + 161 * layers
}

/// What [`build`] would make for `spec`, without making it: each layer's (compressed,
/// uncompressed) bytes, base first, and the config bytes. The entrypoint layer's size is
/// [`ENTRYPOINT_LAYER`]; filler follows the same compressibility rule as the real bytes.
pub fn estimate(spec: &SynthSpec) -> (Vec<(u64, u64)>, u64) {
    let layer_count = u64::from((*spec.layers.get_ref()).max(1));
    let shape = Shape::of(*spec.compressibility.get_ref());
    let (entry_compressed, entry_uncompressed) = ENTRYPOINT_LAYER;
    let budget = spec.size.0.saturating_sub(entry_compressed);
    // Tar: a header per directory and per file of at most MAX_FILE, data padded to 512 bytes,
    // two zero blocks at the end.
    let filler_tar = |bytes: u64| {
        let files = bytes.div_ceil(MAX_FILE);
        (2 + files) * 512 + bytes.div_ceil(512) * 512 + 1024
    };
    let layers = if layer_count == 1 {
        let filler = shape.uncompressed(budget);
        vec![(
            entry_compressed + budget,
            entry_uncompressed + filler_tar(filler) - 1024,
        )]
    } else {
        let n = layer_count - 1;
        let mut layers: Vec<(u64, u64)> = (0..n)
            .map(|i| {
                let share = budget / n + u64::from(i < budget % n);
                (share, filler_tar(shape.uncompressed(share)))
            })
            .collect();
        layers.push(ENTRYPOINT_LAYER);
        layers
    };
    (layers, config_bytes(layer_count))
}

impl Filler {
    fn new(target: u64, compressibility: f64, seed: u64, index: u64) -> Self {
        let shape = Shape::of(compressibility);
        let random_per_block = shape.random_per_block;
        Filler {
            target,
            uncompressed: shape.uncompressed(target),
            random_per_block,
            rng: ChaCha8Rng::seed_from_u64(seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            index,
        }
    }
}

/// Compressed bytes one filler block costs with the layers' gzip settings, measured on a
/// sample of blocks: zeros are cheap but not free, so this keeps sizes on target.
fn compressed_block_size(random_per_block: usize) -> f64 {
    const SAMPLE_BLOCKS: usize = 16;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut reader = FillerReader {
        rng: &mut rng,
        random_per_block,
        remaining: (SAMPLE_BLOCKS * BLOCK) as u64,
        block: Vec::new(),
        pos: 0,
    };
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    let compressed = io::copy(&mut reader, &mut gz)
        .and_then(|_| gz.finish())
        .map_or(random_per_block, |v| v.len());
    (compressed as f64 / SAMPLE_BLOCKS as f64).max(1.0)
}

/// A reader producing `len` filler bytes: each block a random head then zeros.
struct FillerReader<'a> {
    rng: &'a mut ChaCha8Rng,
    random_per_block: usize,
    remaining: u64,
    block: Vec<u8>,
    pos: usize,
}

impl Read for FillerReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            return Ok(0);
        }
        if self.pos == self.block.len() {
            let len = (BLOCK as u64).min(self.remaining) as usize;
            self.block.resize(len, 0);
            let random = self.random_per_block.min(len);
            self.rng.fill_bytes(&mut self.block[..random]);
            self.block[random..].fill(0);
            self.pos = 0;
        }
        let n = buf
            .len()
            .min(self.block.len() - self.pos)
            .min(self.remaining as usize);
        buf[..n].copy_from_slice(&self.block[self.pos..self.pos + n]);
        self.pos += n;
        self.remaining -= n as u64;
        Ok(n)
    }
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// Writes one gzip layer holding `files` and optional `filler` into the store.
fn write_layer(
    store: &Store,
    files: &[FileSpec<'_>],
    filler: Option<Filler>,
    label: &str,
) -> Result<LayerInfo, ImageError> {
    let io_err = |source: io::Error| ImageError::Io {
        what: format!("writing synthetic layer ({label})"),
        source,
    };
    let gz = GzEncoder::new(store.blob_writer()?, Compression::fast());
    let hashing = HashingWriter::new(gz);
    let mut tar = tar::Builder::new(hashing);
    let mut created_by = format!("coldbench synth: {label}");

    for f in files {
        if let Some((dir, _)) = f.path.rsplit_once('/') {
            let mut h = header(tar::EntryType::Directory, 0o755, 0);
            tar.append_data(&mut h, format!("{dir}/"), io::empty())
                .map_err(io_err)?;
        }
        let mut h = header(tar::EntryType::Regular, f.mode, f.data.len() as u64);
        tar.append_data(&mut h, f.path, f.data).map_err(io_err)?;
    }

    if let Some(mut filler) = filler {
        created_by = format!(
            "{created_by} ({} compressed target, {} uncompressed)",
            crate::units::format_bytes(filler.target),
            crate::units::format_bytes(filler.uncompressed)
        );
        let dir = format!("data/{}", filler.index);
        let mut h = header(tar::EntryType::Directory, 0o755, 0);
        tar.append_data(&mut h, "data/", io::empty())
            .map_err(io_err)?;
        tar.append_data(&mut h, format!("{dir}/"), io::empty())
            .map_err(io_err)?;
        let mut left = filler.uncompressed;
        let mut file_no = 0;
        while left > 0 {
            let len = left.min(MAX_FILE);
            let mut h = header(tar::EntryType::Regular, 0o644, len);
            let reader = FillerReader {
                rng: &mut filler.rng,
                random_per_block: filler.random_per_block,
                remaining: len,
                block: Vec::new(),
                pos: 0,
            };
            tar.append_data(&mut h, format!("{dir}/blob-{file_no}.bin"), reader)
                .map_err(io_err)?;
            left -= len;
            file_no += 1;
        }
    }

    let (gz, diff_id, uncompressed_size) = tar.into_inner().map_err(io_err)?.finish();
    let blob = gz.finish().map_err(io_err)?;
    let (digest, size) = blob.commit()?;
    Ok(LayerInfo {
        digest,
        size,
        diff_id,
        uncompressed_size,
        created_by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::ByteSize;
    use toml::Spanned;

    fn spec(size: u64, layers: u32, compressibility: f64, seed: Option<u64>) -> SynthSpec {
        SynthSpec {
            size: ByteSize(size),
            layers: Spanned::new(0..0, layers),
            compressibility: Spanned::new(0..0, compressibility),
            seed,
        }
    }

    #[test]
    fn same_spec_same_digests_across_stores() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let s = spec(3_000_000, 3, 0.4, None);
        let x = build(&Store::open(a.path()).unwrap(), "demo", &s).unwrap();
        let y = build(&Store::open(b.path()).unwrap(), "demo", &s).unwrap();
        assert_eq!(x, y);
        let other = build(&Store::open(b.path()).unwrap(), "other", &s).unwrap();
        assert_ne!(x.digest, other.digest, "the name seeds the content");
        let seeded = build(
            &Store::open(b.path()).unwrap(),
            "other",
            &spec(3_000_000, 3, 0.4, Some(1)),
        )
        .unwrap();
        assert_ne!(seeded.digest, other.digest);
    }

    #[test]
    fn sizes_and_layers_follow_the_spec() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for (size, layers, c) in [
            (4_000_000u64, 1u32, 0.0),
            (6_000_000, 4, 0.5),
            (2_000_000, 2, 0.9),
        ] {
            let img = build(&store, "v", &spec(size, layers, c, None)).unwrap();
            assert_eq!(img.layers.len(), layers as usize);
            let ratio = img.compressed_size as f64 / size as f64;
            assert!(
                (0.97..1.03).contains(&ratio),
                "{size} B asked, {} B made",
                img.compressed_size
            );
            for filler in &img.layers[..img.layers.len() - 1] {
                let achieved = 1.0 - filler.size as f64 / filler.uncompressed_size as f64;
                assert!(
                    (achieved - c).abs() < 0.02,
                    "compressibility {c} asked, {achieved:.3} made"
                );
            }
            for l in &img.layers {
                assert_eq!(store.blob_size(&l.digest), Some(l.size));
            }
            assert_eq!(img.repository, "coldbench/v");
        }
    }

    #[test]
    fn estimates_match_what_build_makes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for (size, layers, c) in [(6_000_000u64, 4u32, 0.3), (3_000_000, 1, 0.0)] {
            let s = spec(size, layers, c, None);
            let img = build(&store, "v", &s).unwrap();
            let (estimated, config) = estimate(&s);
            assert_eq!(estimated.len(), img.layers.len());
            let close = |a: u64, b: u64, tolerance: f64| {
                (a as f64 - b as f64).abs() <= tolerance * b as f64
            };
            for (e, l) in estimated.iter().zip(&img.layers) {
                assert!(close(e.0, l.size, 0.05), "compressed {e:?} vs {l:?}");
                assert!(
                    close(e.1, l.uncompressed_size, 0.05),
                    "uncompressed {e:?} vs {l:?}"
                );
            }
            let layer_bytes: u64 = img.layers.iter().map(|l| l.size).sum();
            let real_config = img.compressed_size - layer_bytes;
            assert!(close(config, real_config, 0.3), "{config} vs {real_config}");
        }
    }

    #[test]
    fn too_small_a_size_says_how_much_is_needed() {
        let dir = tempfile::tempdir().unwrap();
        let e = build(
            &Store::open(dir.path()).unwrap(),
            "v",
            &spec(1000, 1, 0.0, None),
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("smaller than its entrypoint layer"),
            "{e}"
        );
    }

    fn bytes_under(dir: &std::path::Path) -> u64 {
        std::fs::read_dir(dir).unwrap().fold(0, |n, e| {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            n + if m.is_dir() {
                bytes_under(&e.path())
            } else {
                m.len()
            }
        })
    }

    #[test]
    fn a_synth_larger_than_the_free_space_fails_fast_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let free = crate::image::space::free_bytes(dir.path()).unwrap();
        let before = bytes_under(dir.path());
        for size in [free.saturating_add(1), 18_000_000 * 1_000_000_000_000] {
            let t = std::time::Instant::now();
            let e = build(&store, "huge", &spec(size, 3, 0.0, None)).unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.contains("not enough free space") && msg.contains(" free"),
                "{msg}"
            );
            assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
            assert!(t.elapsed() < std::time::Duration::from_secs(2));
        }
        assert_eq!(bytes_under(dir.path()), before, "nothing written");
    }
}
