//! The files a fresh containerd node reads: its `config.toml` (version 2) and, kind's recipe for
//! registries, one `hosts.toml` per registry host under the CRI plugin's `config_path`.

use std::path::{Path, PathBuf};

/// Where a node keeps everything, all under one directory.
#[derive(Debug, Clone)]
pub struct NodeLayout {
    /// The node's directory (removed at teardown).
    pub dir: PathBuf,
}

impl NodeLayout {
    /// containerd's persistent root (content, snapshots, metadata).
    pub fn root(&self) -> PathBuf {
        self.dir.join("root")
    }
    /// containerd's state directory (task bundles, sandbox files).
    pub fn state(&self) -> PathBuf {
        self.dir.join("state")
    }
    /// The gRPC socket (CRI and containerd's own API).
    pub fn socket(&self) -> PathBuf {
        self.dir.join("c.sock")
    }
    /// The registry hosts directory (`config_path`).
    pub fn certs_d(&self) -> PathBuf {
        self.dir.join("certs.d")
    }
    /// The config file.
    pub fn config(&self) -> PathBuf {
        self.dir.join("config.toml")
    }
    /// containerd's log.
    pub fn log(&self) -> PathBuf {
        self.dir.join("containerd.log")
    }
}

/// Snapshotter every node uses.
pub const SNAPSHOTTER: &str = "overlayfs";
/// CRI runtime handler every node uses.
pub const RUNTIME_HANDLER: &str = "runc";

/// Plugins a node never needs; disabling them keeps start-up quick and the log quiet.
const DISABLED_PLUGINS: &[&str] = &[
    "io.containerd.snapshotter.v1.aufs",
    "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.zfs",
    "io.containerd.tracing.processor.v1.otlp",
    "io.containerd.internal.v1.tracing",
];

/// A TOML basic string (quoted, escaped).
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

fn path_str(path: &Path) -> String {
    quoted(&path.display().to_string())
}

/// `config.toml` for a node: own root, state and sockets; the CRI plugin with the harness's
/// pause image, `restrict_oom_score_adj` (runc cannot set the sandbox's -998 in unprivileged
/// or nested setups), overlayfs, runc v2, CNI directories inside the node (host-network pods
/// need no CNI), and registry hosts from `config_path`.
pub fn config_toml(layout: &NodeLayout, sandbox_image: &str) -> String {
    let disabled: Vec<String> = DISABLED_PLUGINS.iter().map(|p| quoted(p)).collect();
    let cri = "plugins.\"io.containerd.grpc.v1.cri\"";
    format!(
        r#"version = 2
root = {root}
state = {state}
disabled_plugins = [{disabled}]

[grpc]
  address = {socket}

[ttrpc]
  address = {ttrpc}

[{cri}]
  sandbox_image = {sandbox}
  restrict_oom_score_adj = true
  [{cri}.containerd]
    snapshotter = "{SNAPSHOTTER}"
    default_runtime_name = "{RUNTIME_HANDLER}"
    [{cri}.containerd.runtimes.{RUNTIME_HANDLER}]
      runtime_type = "io.containerd.runc.v2"
  [{cri}.cni]
    bin_dir = {cni_bin}
    conf_dir = {cni_conf}
  [{cri}.registry]
    config_path = {certs}
"#,
        root = path_str(&layout.root()),
        state = path_str(&layout.state()),
        disabled = disabled.join(", "),
        socket = path_str(&layout.socket()),
        ttrpc = path_str(&layout.dir.join("c.sock.ttrpc")),
        sandbox = quoted(sandbox_image),
        cni_bin = path_str(&layout.dir.join("cni/bin")),
        cni_conf = path_str(&layout.dir.join("cni/net.d")),
        certs = path_str(&layout.certs_d()),
    )
}

/// `hosts.toml` for registry host `host_port` (`127.0.0.1:PORT`): plain HTTP to that port.
pub fn hosts_toml(host_port: &str) -> String {
    let url = format!("http://{host_port}");
    format!(
        "server = {server}\n\n[host.{key}]\n  capabilities = [\"pull\", \"resolve\"]\n  skip_verify = true\n",
        server = quoted(&url),
        key = quoted(&url),
    )
}

/// Writes `certs.d/<name>/hosts.toml` sending pulls of registry host `name` to `host_port`
/// (`127.0.0.1:PORT`) over plain HTTP. containerd reads these per pull, so a running node picks
/// up a new one at once.
pub fn write_hosts(layout: &NodeLayout, name: &str, host_port: &str) -> std::io::Result<()> {
    let dir = layout.certs_d().join(name);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("hosts.toml"), hosts_toml(host_port))
}

/// Writes `config.toml` and `certs.d/<host:port>/hosts.toml` for each registry address.
pub fn write(
    layout: &NodeLayout,
    sandbox_image: &str,
    registries: &[String],
) -> std::io::Result<()> {
    std::fs::write(layout.config(), config_toml(layout, sandbox_image))?;
    for host_port in registries {
        write_hosts(layout, host_port, host_port)?;
    }
    for sub in ["cni/bin", "cni/net.d", "certs.d"] {
        std::fs::create_dir_all(layout.dir.join(sub))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parses_and_points_inside_the_node() {
        let layout = NodeLayout {
            dir: PathBuf::from("/tmp/cbc0-x"),
        };
        let text = config_toml(&layout, "127.0.0.1:5000/coldbench-pause/pause:latest");
        let value: toml::Value = toml::from_str(&text).expect("valid TOML");
        assert_eq!(value["version"].as_integer(), Some(2));
        assert_eq!(value["root"].as_str(), Some("/tmp/cbc0-x/root"));
        assert_eq!(
            value["grpc"]["address"].as_str(),
            Some("/tmp/cbc0-x/c.sock")
        );
        let cri = &value["plugins"]["io.containerd.grpc.v1.cri"];
        assert_eq!(cri["restrict_oom_score_adj"].as_bool(), Some(true));
        assert_eq!(
            cri["sandbox_image"].as_str(),
            Some("127.0.0.1:5000/coldbench-pause/pause:latest")
        );
        assert_eq!(
            cri["registry"]["config_path"].as_str(),
            Some("/tmp/cbc0-x/certs.d")
        );
        assert_eq!(cri["containerd"]["snapshotter"].as_str(), Some("overlayfs"));
    }

    #[test]
    fn hosts_say_plain_http_on_the_node_port() {
        let value: toml::Value = toml::from_str(&hosts_toml("127.0.0.1:41234")).unwrap();
        assert_eq!(value["server"].as_str(), Some("http://127.0.0.1:41234"));
        let host = &value["host"]["http://127.0.0.1:41234"];
        assert_eq!(
            host["capabilities"].as_array().map(Vec::len),
            Some(2),
            "{value}"
        );
    }
}
