//! `[kube]` and `[registry] listen`: checked where the scenario names them — their form always;
//! what only makes sense on a cluster, only when `driver = "kube"`.

use std::net::SocketAddr;

use toml::Spanned;

use super::{Invalid, KubeSettings, RegistrySettings};
use crate::units::clip;

/// Longest namespace prefix: the run's namespace adds `-YYYYMMDD-hhmmss-xxxx` (21 characters)
/// and must stay a 63-character DNS label.
pub const MAX_NAMESPACE_PREFIX: usize = 42;
/// Most `node_selector` entries.
pub const MAX_NODE_SELECTOR: usize = 16;
/// Longest `[kube] registry` / `context` value.
const MAX_ADDRESS: usize = 253;

/// The `[kube]` table and `[registry] listen`; `on_cluster` when the run uses them.
pub(super) fn check(
    kube: &KubeSettings,
    registry: &RegistrySettings,
    on_cluster: bool,
) -> Result<(), Invalid> {
    if let Some(listen) = &registry.listen {
        listen_address(listen)?;
        if !on_cluster {
            return Err(at(
                listen,
                "registry.listen",
                "listen applies to driver = \"kube\" only: other drivers' nodes pull from ports the harness opens on 127.0.0.1; remove it".into(),
            ));
        }
    }
    if on_cluster {
        if let Some(rate) = registry.node_bandwidth {
            return Err((
                None,
                "registry.node_bandwidth".into(),
                format!("node_bandwidth = \"{rate}\" cannot apply to a cluster's nodes (their links are real): remove it, or use driver = \"docker\" or \"containerd\" to emulate nodes"),
            ));
        }
    }
    if let Some(context) = &kube.context {
        text(context, "kube.context", MAX_ADDRESS)?;
    }
    if let Some(prefix) = &kube.namespace {
        namespace_prefix(prefix)?;
    }
    node_selector(kube)?;
    if let Some(reg) = &kube.registry {
        registry_host(reg)?;
    }
    if let Some(cpu) = &kube.cpu {
        quantity(cpu, "kube.cpu", "\"500m\" or \"1\"")?;
    }
    if let Some(memory) = &kube.memory {
        quantity(memory, "kube.memory", "\"256Mi\" or \"1Gi\"")?;
    }
    if on_cluster && kube.registry.is_none() {
        let unspecified = registry
            .listen
            .as_ref()
            .and_then(|l| l.get_ref().parse::<SocketAddr>().ok())
            .is_some_and(|a| a.ip().is_unspecified());
        if unspecified {
            let listen = registry.listen.as_ref().map(Spanned::span);
            return Err((
                listen,
                "kube.registry".into(),
                "the registry listens on every interface, so the nodes' address for it is unknown: add [kube] registry = \"HOST:PORT\" as the nodes reach it (scripts/kind-up prints it for kind)".into(),
            ));
        }
    }
    Ok(())
}

/// The registry address the nodes use: `[kube] registry`, else the address the registry bound.
pub fn nodes_registry(kube: &KubeSettings, bound: SocketAddr) -> String {
    kube.registry
        .as_ref()
        .map_or_else(|| bound.to_string(), |r| r.get_ref().clone())
}

fn at(value: &Spanned<String>, field: &str, message: String) -> Invalid {
    (Some(value.span()), field.into(), message)
}

/// `[registry] listen` as a socket address.
pub fn listen_address(listen: &Spanned<String>) -> Result<SocketAddr, Invalid> {
    listen.get_ref().parse::<SocketAddr>().map_err(|_| {
        at(
            listen,
            "registry.listen",
            format!(
                "listen = {:?} is not an IP address and port: write e.g. \"0.0.0.0:5001\" (every interface) or \"127.0.0.1:5001\"",
                clip(listen.get_ref())
            ),
        )
    })
}

fn text(value: &Spanned<String>, field: &str, max: usize) -> Result<(), Invalid> {
    let v = value.get_ref();
    if v.is_empty() || v.len() > max || v.chars().any(char::is_control) {
        return Err(at(
            value,
            field,
            format!(
                "{field} = {:?}: expected 1 to {max} printable characters",
                clip(v)
            ),
        ));
    }
    Ok(())
}

/// A DNS-1123 label: lowercase letters, digits and inner `-`.
fn is_dns_label(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn namespace_prefix(prefix: &Spanned<String>) -> Result<(), Invalid> {
    if is_dns_label(prefix.get_ref(), MAX_NAMESPACE_PREFIX) {
        return Ok(());
    }
    Err(at(
        prefix,
        "kube.namespace",
        format!(
            "namespace = {:?}: the prefix of each run's namespace must be lowercase letters, digits and inner '-', at most {MAX_NAMESPACE_PREFIX} characters (e.g. \"coldbench\")",
            clip(prefix.get_ref())
        ),
    ))
}

/// A label name segment: alphanumerics with inner `-`, `_`, `.`, at most 63 characters.
fn is_label_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// A label key: `[prefix/]name`, the prefix a DNS subdomain of at most 253 characters.
pub fn is_label_key(key: &str) -> bool {
    match key.split_once('/') {
        None => is_label_segment(key),
        Some((prefix, name)) => {
            prefix.len() <= 253
                && prefix.split('.').all(|p| is_dns_label(p, 63))
                && is_label_segment(name)
        }
    }
}

fn node_selector(kube: &KubeSettings) -> Result<(), Invalid> {
    if kube.node_selector.len() > MAX_NODE_SELECTOR {
        return Err((
            None,
            "kube.node_selector".into(),
            format!(
                "{} node_selector labels: at most {MAX_NODE_SELECTOR}",
                kube.node_selector.len()
            ),
        ));
    }
    for (key, value) in &kube.node_selector {
        let field = format!("kube.node_selector.{key}");
        if !is_label_key(key) {
            return Err(at(
                value,
                &field,
                format!("{:?} is not a label key: use [prefix/]name, the name alphanumerics with inner '-', '_', '.' (at most 63), e.g. \"kubernetes.io/hostname\"", clip(key)),
            ));
        }
        let v = value.get_ref();
        if !v.is_empty() && !is_label_segment(v) {
            return Err(at(
                value,
                &field,
                format!("{:?} is not a label value: alphanumerics with inner '-', '_', '.', at most 63 characters", clip(v)),
            ));
        }
    }
    Ok(())
}

/// `host[:port]` as image references start: no scheme, no path.
fn registry_host(reg: &Spanned<String>) -> Result<(), Invalid> {
    text(reg, "kube.registry", MAX_ADDRESS)?;
    let v = reg.get_ref();
    let (host, port) = match v.rsplit_once(':') {
        Some((h, p)) if !h.contains(']') || h.ends_with(']') => (h, Some(p)),
        _ => (v.as_str(), None),
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    if host_ok && port_ok {
        return Ok(());
    }
    Err(at(
        reg,
        "kube.registry",
        format!(
            "registry = {:?}: expected the registry's host[:port] as the nodes reach it, with no scheme or path (e.g. \"localhost:5001\")",
            clip(v)
        ),
    ))
}

/// A Kubernetes quantity: a decimal number and an optional suffix (`m`, `k`, `M`, `Mi`, `Gi`…).
fn quantity(value: &Spanned<String>, field: &str, example: &str) -> Result<(), Invalid> {
    const SUFFIXES: [&str; 14] = [
        "", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
    ];
    let v = value.get_ref();
    let digits = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (number, suffix) = v.split_at(digits);
    let number_ok = !number.is_empty()
        && number.matches('.').count() <= 1
        && number.parse::<f64>().is_ok_and(|n| n > 0.0);
    if number_ok && SUFFIXES.contains(&suffix) {
        return Ok(());
    }
    Err(at(
        value,
        field,
        format!(
            "{field} = {:?} is not a Kubernetes quantity: write e.g. {example}",
            clip(v)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_keys() {
        assert!(is_label_key("kubernetes.io/hostname"));
        assert!(is_label_key("pool"));
        assert!(!is_label_key("-pool"));
        assert!(!is_label_key("a/b/c"));
        assert!(!is_label_key("Example.COM/x"));
    }

    #[test]
    fn dns_labels() {
        assert!(is_dns_label("coldbench", 42));
        assert!(!is_dns_label("Coldbench", 42));
        assert!(!is_dns_label("a-", 42));
        assert!(!is_dns_label(&"a".repeat(43), 42));
    }
}
