//! Images: how each variant's image is made and put into the embedded registry.

pub mod anatomy;
pub mod context;
pub mod dockerfile;
pub mod engine;
pub mod hashing;
pub mod local;
pub mod oci;
pub mod salt;
pub mod space;
pub mod synth;
pub mod upstream;

pub use crate::results::{LayerInfo, StoredImage};
pub use engine::ImageEngine;

pub use crate::registry::REPO_PREFIX;

/// The static `coldbench-hello` binary embedded at build time (empty when it could not be built).
pub static HELLO_BINARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/coldbench-hello"));

/// Errors making an image.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(transparent)]
    Store(#[from] crate::registry::StoreError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("this coldbench was built without a static coldbench-hello (target not Linux?): rebuild on Linux, or set COLDBENCH_HELLO_BIN=/path/to/static/coldbench-hello at build time")]
    NoHelloBinary,
    #[error("variant {variant:?}: size {size} is smaller than its entrypoint layer ({needed} bytes); ask for at least that")]
    TooSmall {
        variant: String,
        size: u64,
        needed: u64,
    },
    #[error("local image {image:?}: {cause}")]
    LocalImage { image: String, cause: String },
    #[error("building variant {variant:?} failed; the builder's last lines:\n{output}")]
    Build { variant: String, output: String },
    #[error("upstream image: {0}")]
    Upstream(#[from] upstream::UpstreamError),
    #[error("not enough free space for {what} in {}: {} needed (with margin), {} free", dir.display(), crate::units::format_bytes(*needed), crate::units::format_bytes(*free))]
    NoSpace {
        what: String,
        dir: std::path::PathBuf,
        needed: u64,
        free: u64,
    },
    #[error(transparent)]
    Salt(#[from] salt::SaltError),
    #[error("serializing {0}: {1}")]
    Json(&'static str, serde_json::Error),
}
