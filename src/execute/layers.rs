//! A sample's layer timings: the engine's own (Docker's progress stream, containerd's snapshot
//! commits) joined with the registry's (when each layer's last byte left for the node), so that
//! every driver's pulls get a layer waterfall.

use tokio::time::Instant;

use crate::measure::micros;
use crate::registry::BlobSent;
use crate::results::{LayerTiming, StoredImage};

/// One timing per layer of `image`, base first: the engine's timing for it (if any) with
/// `served_us` set from the registry's log, in µs since `t0` (the pull's start). A layer the
/// registry sent more than once (a retry) takes the last delivery.
pub fn with_registry_times(
    engine: Vec<LayerTiming>,
    image: &StoredImage,
    sent: &[BlobSent],
    t0: Instant,
) -> Vec<LayerTiming> {
    let mut engine = engine;
    image
        .layers
        .iter()
        .map(|layer| {
            let digest = layer.digest.as_str();
            let mut timing = engine
                .iter()
                .position(|t| t.digest == digest)
                .map(|i| engine.swap_remove(i))
                .unwrap_or_else(|| LayerTiming::new(digest));
            timing.served_us = sent
                .iter()
                .filter(|s| s.digest == digest)
                .map(|s| micros(s.at.saturating_duration_since(t0)))
                .max();
            timing
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::registry::Digest;
    use crate::results::LayerInfo;

    fn image(layers: &[&[u8]]) -> StoredImage {
        StoredImage {
            repository: "coldbench/x".into(),
            tag: "latest".into(),
            digest: Digest::of(b"m"),
            config_digest: Digest::of(b"c"),
            compressed_size: 0,
            uncompressed_size: 0,
            layers: layers
                .iter()
                .map(|bytes| LayerInfo {
                    digest: Digest::of(bytes),
                    size: bytes.len() as u64,
                    diff_id: Digest::of(bytes),
                    uncompressed_size: bytes.len() as u64,
                    created_by: String::new(),
                })
                .collect(),
        }
    }

    fn sent(digest: &Digest, at: Instant) -> BlobSent {
        BlobSent {
            digest: digest.to_string(),
            at,
            peer: None,
            bytes: 1,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn registry_times_fill_every_layer_in_image_order() {
        let img = image(&[b"a", b"b"]);
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let log = [
            sent(&img.layers[1].digest, ms(30)),
            sent(&img.layers[0].digest, ms(50)),
            sent(&img.layers[1].digest, ms(70)), // a retry: the last delivery counts
        ];
        let layers = with_registry_times(Vec::new(), &img, &log, t0);
        let got: Vec<_> = layers
            .iter()
            .map(|l| (l.digest.clone(), l.served_us))
            .collect();
        assert_eq!(
            got,
            [
                (img.layers[0].digest.to_string(), Some(50_000)),
                (img.layers[1].digest.to_string(), Some(70_000)),
            ]
        );
        assert_eq!(layers[0].downloaded_us(), Some(50_000));
    }

    #[tokio::test(start_paused = true)]
    async fn the_engine_times_are_kept_beside_the_registry_ones() {
        let img = image(&[b"a", b"b"]);
        let t0 = Instant::now();
        let engine = vec![LayerTiming {
            download_complete_us: Some(40_000),
            extract_complete_us: Some(90_000),
            ..LayerTiming::new(img.layers[1].digest.as_str())
        }];
        let log = [sent(&img.layers[1].digest, t0 + Duration::from_millis(39))];
        let layers = with_registry_times(engine, &img, &log, t0);
        assert_eq!(layers[0], LayerTiming::new(img.layers[0].digest.as_str()));
        assert_eq!(layers[1].extract_complete_us, Some(90_000));
        assert_eq!(layers[1].served_us, Some(39_000));
        assert_eq!(
            layers[1].downloaded_us(),
            Some(40_000),
            "the engine's report first"
        );
    }
}
