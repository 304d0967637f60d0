//! All user-facing output: data on stdout, progress, warnings and errors on stderr.
//!
//! `--quiet` silences progress and warnings; `--verbose` adds a line per network request.
//! Text that came from upstream (tag names, messages from servers) passes through
//! [`sanitize`] before it reaches a terminal.

use std::error::Error;
use std::io::{IsTerminal, Write};
use std::sync::Arc;

/// How much to say on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// The one writer of user-facing output; cheap to clone.
#[derive(Debug, Clone)]
pub struct Printer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    verbosity: Verbosity,
    color: bool,
    terminal: bool,
}

/// A download's progress line, drawn on a terminal only.
#[derive(Debug)]
pub struct Progress {
    label: Option<String>,
    last: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Progress {
    /// Redraws the line, at most ten times a second.
    pub fn update(&self, received: u64, total: Option<u64>) {
        let Some(label) = &self.label else { return };
        let mut last = self.last.lock().expect("progress lock");
        if last.is_some_and(|t| t.elapsed() < std::time::Duration::from_millis(100)) {
            return;
        }
        *last = Some(std::time::Instant::now());
        let mib = |n: u64| n as f64 / 1048576.0;
        let text = match total {
            Some(total) if total > 0 => format!(
                "{label} {:.1}/{:.1} MiB ({}%)",
                mib(received),
                mib(total),
                received * 100 / total
            ),
            _ => format!("{label} {:.1} MiB", mib(received)),
        };
        eprint!("\r\x1b[2K{text}");
    }

    /// Clears the line.
    pub fn finish(&self) {
        if self.label.is_some() && self.last.lock().expect("progress lock").is_some() {
            eprint!("\r\x1b[2K");
        }
    }
}

/// A count of finished items (`checking 12/30 dependencies…`), drawn on a terminal only, so
/// a run that waits on the network is never silent there; never in captured output.
#[derive(Debug)]
pub struct Tally {
    label: Option<String>,
    total: usize,
    done: std::sync::atomic::AtomicUsize,
    last: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Tally {
    /// One more item finished; redraws the line at most ten times a second.
    pub fn advance(&self) {
        let done = self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let Some(label) = &self.label else { return };
        let mut last = self.last.lock().expect("tally lock");
        if done < self.total
            && last.is_some_and(|t| t.elapsed() < std::time::Duration::from_millis(100))
        {
            return;
        }
        *last = Some(std::time::Instant::now());
        eprint!("\r\x1b[2K{label} {done}/{}…", self.total);
    }

    /// Clears the line.
    pub fn finish(&self) {
        if self.label.is_some() {
            eprint!("\r\x1b[2K");
        }
    }
}

impl Drop for Tally {
    fn drop(&mut self) {
        self.finish();
        self.label = None;
    }
}

impl Printer {
    pub fn new(verbosity: Verbosity) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let color = terminal && std::env::var_os("NO_COLOR").is_none();
        Self {
            inner: Arc::new(Inner {
                verbosity,
                color,
                terminal,
            }),
        }
    }

    /// A progress line for a download; silent unless stderr is a terminal.
    pub fn progress(&self, what: &str) -> Progress {
        let shown = self.inner.terminal && self.inner.verbosity >= Verbosity::Normal;
        Progress {
            label: shown.then(|| format!("downloading {}", sanitize(what))),
            last: std::sync::Mutex::new(None),
        }
    }

    /// A count of finished items for a batch (`checking 3/30`), drawn at once and after each
    /// item; silent unless stderr is a terminal.
    pub fn tally(&self, what: &str, total: usize) -> Tally {
        let shown = self.inner.terminal && self.inner.verbosity == Verbosity::Normal;
        let label = shown.then(|| sanitize(what));
        if let Some(label) = &label {
            eprint!("\r\x1b[2K{label} 0/{total}…");
        }
        Tally {
            label,
            total,
            done: std::sync::atomic::AtomicUsize::new(0),
            last: std::sync::Mutex::new(None),
        }
    }

    /// Whether color may be used on stdout (for diffs).
    pub fn color_stdout(&self) -> bool {
        std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
    }

    /// Data: the command's result, on stdout.
    pub fn data(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        // A closed pipe (`| head`) is not an error worth a panic.
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// A line about what is happening, unless `--quiet`.
    pub fn status(&self, text: &str) {
        if self.inner.verbosity >= Verbosity::Normal {
            eprintln!("{text}");
        }
    }

    /// A detail shown only with `--verbose`.
    pub fn verbose(&self, text: &str) {
        if self.inner.verbosity >= Verbosity::Verbose {
            eprintln!("{} {}", self.paint("verbose:", "2"), sanitize(text));
        }
    }

    /// Something the user should know that did not stop the command.
    pub fn warn(&self, text: &str) {
        if self.inner.verbosity >= Verbosity::Normal {
            eprintln!("{} {}", self.paint("warning:", "1;33"), sanitize(text));
        }
    }

    /// An error with its causes and hints; always shown.
    pub fn error(&self, headline: &str, error: &(dyn Error + 'static), hints: &[String]) {
        eprint!("{}", self.render_error(headline, error, hints));
    }

    /// `error: headline: message`, then `Caused by:` lines, then `hint:` lines.
    pub fn render_error(
        &self,
        headline: &str,
        error: &(dyn Error + 'static),
        hints: &[String],
    ) -> String {
        let mut text = format!("{} ", self.paint("error:", "1;31"));
        if !headline.is_empty() {
            text.push_str(headline);
            text.push_str(": ");
        }
        text.push_str(&sanitize(&error.to_string()));
        text.push('\n');
        let causes: Vec<String> = std::iter::successors(error.source(), |e| (*e).source())
            .map(|e| sanitize(&e.to_string()))
            .collect();
        if !causes.is_empty() {
            text.push_str("Caused by:\n");
            for cause in causes {
                for (i, line) in cause.lines().enumerate() {
                    text.push_str(if i == 0 { "  " } else { "    " });
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
        for hint in hints {
            text.push_str(&format!("{} {}\n", self.paint("hint:", "1;36"), hint));
        }
        text
    }

    fn paint(&self, text: &str, style: &str) -> String {
        if self.inner.color {
            format!("\x1b[{style}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// Removes terminal control characters (escape sequences, bells, carriage returns) from text
/// that came from outside, keeping newlines and tabs, and shows invisible formatting
/// characters (bidirectional overrides) as escapes, so that nothing reorders the text.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_invisible(c) {
            out.extend(c.escape_default());
        } else if !c.is_control() || c == '\n' || c == '\t' {
            out.push(c);
        }
    }
    out
}

/// Characters that change how text reads without being seen: bidirectional overrides and
/// isolates, zero-width characters, the byte order mark.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}' | '\u{061c}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_strips_control_characters() {
        assert_eq!(sanitize("v1.2\x1b[31m\x07\r\nok\t"), "v1.2[31m\nok\t");
        assert_eq!(sanitize("abc\u{202e}fed"), "abc\\u{202e}fed");
    }

    #[test]
    fn renders_causes_and_hints() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let printer = Printer {
            inner: Arc::new(Inner {
                verbosity: Verbosity::Quiet,
                color: false,
                terminal: false,
            }),
        };
        let error = Outer(std::io::Error::other("inner\nsecond line"));
        let text = printer.render_error("nghttp2", &error, &["try again".into()]);
        assert_eq!(
            text,
            "error: nghttp2: outer\nCaused by:\n  inner\n    second line\nhint: try again\n"
        );
    }
}
