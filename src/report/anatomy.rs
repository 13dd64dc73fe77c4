//! Anatomy as text: a block for the terminal and a one-line summary for table cells.

use std::fmt::Write as _;

use crate::results::Anatomy;
use crate::units::format_bytes;

/// Longest `created_by` shown, in characters.
const CREATED_BY_WIDTH: usize = 70;

/// A short, readable block describing the image, one fact per line.
pub fn render(a: &Anatomy) -> String {
    let mut out = String::new();
    let config = a.compressed_size
        - a.layers
            .iter()
            .map(|l| l.size)
            .sum::<u64>()
            .min(a.compressed_size);
    let _ = writeln!(
        out,
        "  size        {} compressed (config {}), {} uncompressed",
        format_bytes(a.compressed_size),
        format_bytes(config),
        format_bytes(a.uncompressed_size)
    );
    let _ = writeln!(out, "  layers      {}", a.layers.len());
    let number_width = a.layers.len().to_string().len();
    for (i, l) in a.layers.iter().enumerate() {
        let what = l
            .created_by
            .as_deref()
            .map(short_instruction)
            .unwrap_or_else(|| "(no history)".to_string());
        let _ = writeln!(
            out,
            "    {:>number_width$}  {:>9} → {:>9}  {:>7}  {what}",
            i + 1,
            format_bytes(l.size),
            format_bytes(l.uncompressed_size),
            count_noun(l.files, "file", "files"),
        );
    }
    let user = match a.user.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => u.to_string(),
        None => "(not set)".to_string(),
    };
    let root = if a.runs_as_root {
        "  ⚠ runs as root"
    } else {
        ""
    };
    let _ = writeln!(out, "  user        {user}{root}");
    if let Some(entrypoint) = &a.entrypoint {
        let _ = writeln!(out, "  entrypoint  {}", command_line(entrypoint));
    }
    if let Some(cmd) = &a.cmd {
        let _ = writeln!(out, "  cmd         {}", command_line(cmd));
    }
    let _ = writeln!(out, "  shell       {}", list_or_none(&a.shells));
    let _ = writeln!(out, "  pkg mgr     {}", list_or_none(&a.package_managers));
    let _ = writeln!(
        out,
        "  files       {}",
        count_noun(a.file_count, "regular file", "regular files")
    );
    if !a.largest_files.is_empty() {
        let _ = writeln!(out, "  largest");
        for f in &a.largest_files {
            let _ = writeln!(out, "    {:>9}  {}", format_bytes(f.size), f.path);
        }
    }
    out
}

/// A compact one-line summary for a table cell: `root · shell · dpkg · 1.2k files`.
pub fn flags(a: &Anatomy) -> String {
    let user = if a.runs_as_root { "root" } else { "non-root" };
    let shell = if a.shells.is_empty() {
        "no shell"
    } else {
        "shell"
    };
    let pkg = if a.package_managers.is_empty() {
        "no pkg mgr".to_string()
    } else {
        a.package_managers.join("+")
    };
    let files = if a.file_count == 1 {
        "1 file".to_string()
    } else {
        format!("{} files", compact_count(a.file_count))
    };
    format!("{user} · {shell} · {pkg} · {files}")
}

/// `3`, `1.2k`, `45k`, `1.3M`.
fn compact_count(n: u64) -> String {
    let f = n as f64;
    if n < 1000 {
        n.to_string()
    } else if n < 9_950 {
        format!("{:.1}k", f / 1e3)
    } else if n < 999_500 {
        format!("{:.0}k", f / 1e3)
    } else {
        format!("{:.1}M", f / 1e6)
    }
}

/// `1 file`, `12 files`.
fn count_noun(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Items joined by `, `, or `none`.
fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

/// Arguments joined by spaces, those with whitespace (or empty) quoted.
fn command_line(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if a.is_empty() || a.chars().any(char::is_whitespace) {
                format!("{a:?}")
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A history `created_by` made readable: Docker's shell prefixes dropped, whitespace collapsed,
/// cut to [`CREATED_BY_WIDTH`] characters.
pub(crate) fn short_instruction(created_by: &str) -> String {
    let collapsed = created_by.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = if let Some(rest) = collapsed.strip_prefix("/bin/sh -c #(nop) ") {
        rest.trim().to_string()
    } else if let Some(rest) = collapsed.strip_prefix("/bin/sh -c ") {
        format!("RUN {}", rest.trim())
    } else {
        collapsed
    };
    super::ellipsize(&text, CREATED_BY_WIDTH)
}
