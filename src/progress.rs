//! Progress on stderr (indicatif): shown only on a terminal and unless `--no-progress`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Makes progress bars that are hidden when they should be.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    visible: bool,
}

impl Progress {
    /// Visible when `wanted` and stderr is a terminal.
    pub fn new(wanted: bool) -> Self {
        Progress {
            visible: wanted && std::io::stderr().is_terminal(),
        }
    }

    fn target(&self) -> ProgressDrawTarget {
        if self.visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        }
    }

    /// Prints a line on stderr (above any bar).
    pub fn println(&self, line: String) {
        eprintln!("{line}");
    }

    /// A spinner with a message, for work of unknown length.
    pub fn spinner(&self, message: String) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(None, self.target());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(message);
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }

    /// A bar over `total` steps called `unit` (samples, bursts).
    pub fn steps(&self, total: u64, unit: &str) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(Some(total), self.target());
        bar.set_style(
            ProgressStyle::with_template(
                &format!("{{bar:30.cyan/blue}} {{pos}}/{{len}} {unit} · {{elapsed}} elapsed, ~{{eta}} left · {{msg}}"),
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("█▉▊▋▌▍▎▏ "),
        );
        bar
    }
}
