//! A numbered spinner on standard error for commands with slow steps
//! (`[2/3] validating and writing 2,403 grids (4s)`). Hidden when standard
//! error is not a terminal, so logs and pipes stay clean.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A spinner that counts through a fixed number of steps.
pub(super) struct Steps {
    bar: ProgressBar,
    total: usize,
    done: usize,
}

impl Steps {
    /// A spinner for `total` steps, not yet showing any.
    pub(super) fn new(total: usize) -> Steps {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} [{prefix}] {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(100));
        Steps {
            bar,
            total,
            done: 0,
        }
    }

    /// Start the next step.
    pub(super) fn step(&mut self, message: impl Into<String>) {
        self.done += 1;
        self.bar.set_prefix(format!("{}/{}", self.done, self.total));
        self.bar.set_message(message.into());
    }

    /// Remove the spinner.
    pub(super) fn finish(self) {
        self.bar.finish_and_clear();
    }
}
