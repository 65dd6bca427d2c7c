//! Secrets never reach the terminal: every log line and error message is scrubbed of the
//! secret values this process knows (`lamella_core::known_secrets`), whatever a dependency
//! chose to log at whatever verbosity.

use std::io::Write;
use std::sync::OnceLock;

static SECRETS: OnceLock<Vec<String>> = OnceLock::new();

/// Collects the secrets once, from the environment, the settings and the command line.
pub fn init(args: &[String]) {
    let _ = SECRETS.set(lamella_core::known_secrets(args));
}

/// `text` with every known secret replaced by `***`.
pub fn scrub(text: &str) -> String {
    let mut out = text.to_string();
    for s in SECRETS.get().map(Vec::as_slice).unwrap_or_default() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "***");
        }
    }
    out
}

/// A `MakeWriter` for tracing: each event is buffered, scrubbed, then written to stderr.
#[derive(Clone, Copy, Default)]
pub struct ScrubbedStderr;

/// One event's text, written to stderr (scrubbed) when dropped.
pub struct EventBuf(Vec<u8>);

impl Write for EventBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for EventBuf {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.0);
        let _ = std::io::stderr().write_all(scrub(&text).as_bytes());
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ScrubbedStderr {
    type Writer = EventBuf;

    fn make_writer(&'a self) -> Self::Writer {
        EventBuf(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_known_secrets() {
        let _ = SECRETS.set(vec!["s3cr3t-key".into(), "hunter22".into()]);
        assert_eq!(scrub("key=s3cr3t-key pw=hunter22 ok"), "key=*** pw=*** ok");
    }
}
