//! What the parent reads of a template worker: its answer lines, with a
//! cap on each, the start of its stderr, and why it died.

use std::io::{BufRead, BufReader, Read};
use std::process::ExitStatus;
use std::sync::mpsc;

use crate::render::error::RenderError;
use crate::render::worker::{Line, MAX_LINE_BYTES};

/// What stderr of a child is kept, to say why it died.
const MAX_STDERR_BYTES: u64 = 16 << 10;

/// Why a child died, for the template's error.
#[must_use]
pub fn cause(status: Option<ExitStatus>, stderr: &str, memory: u64) -> RenderError {
    use std::os::unix::process::ExitStatusExt;
    if stderr.contains("overflowed its stack") {
        return RenderError::Worker(
            "recursed too deeply (stack overflow): nested too deeply, or a definition that calls itself without end"
                .into(),
        );
    }
    if stderr.contains("memory allocation of") {
        return RenderError::Memory(memory);
    }
    RenderError::Worker(match status {
        Some(s) if s.signal().is_some() => {
            format!("the template worker was killed by signal {}", s.signal().unwrap_or_default())
        }
        Some(s) => format!("the template worker exited with {s}"),
        None => "the template worker ended unexpectedly".into(),
    })
}

/// Lines from the child, parsed, on a channel (so the parent can wait with a
/// deadline); each is read with a cap.
pub fn read_lines(stdout: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Result<Line, RenderError>> {
    let unreadable = |why: String| RenderError::Worker(format!("the template worker sent an unreadable answer: {why}"));
    let (tx, rx) = mpsc::channel();
    let Some(stdout) = stdout else { return rx };
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        loop {
            let mut line = Vec::new();
            match reader.by_ref().take(MAX_LINE_BYTES).read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line.last() != Some(&b'\n') => {
                    let _ = tx.send(Err(unreadable(format!("a line over {MAX_LINE_BYTES} bytes"))));
                    return;
                }
                Ok(_) => {
                    let parsed = serde_json::from_slice::<Line>(&line).map_err(|e| unreadable(e.to_string()));
                    if tx.send(parsed).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// The start of the child's stderr, read on a thread so it can never fill up.
pub fn read_capped(stderr: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(stderr) = stderr {
            let mut capped = stderr.take(MAX_STDERR_BYTES);
            let _ = capped.read_to_string(&mut text);
            // Drain the rest so the child never blocks on a full pipe.
            let _ = std::io::copy(&mut capped.into_inner(), &mut std::io::sink());
        }
        text
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_of_death() {
        assert!(cause(None, "thread 'main' has overflowed its stack", 0).to_string().contains("stack overflow"));
        assert!(cause(None, "memory allocation of 1000000000 bytes failed", 64 << 20).to_string().contains("64 MiB"));
    }
}
