//! The trace of `rotor serve`: every request's events (the same as `call` writes) and the
//! gateway's own notes, written by one thread so that no async worker ever waits on stderr or
//! on the trace file. Lines are queued without blocking; when the writer falls behind by
//! [`QUEUE`] lines, further lines are dropped and counted (`rotor_serve_trace_dropped_total`)
//! rather than slowing every request down.

use super::metrics::Metrics;
use crate::cli::TraceFormat;
use crate::drive::Sink;
use crate::engine::events::Event;
use crate::pool::Profile;
use crate::render::events::{human_line, write_json};
use std::io::Write;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

/// Lines waiting for the writer, at most.
const QUEUE: usize = 8192;

enum Line {
    /// A trace line for stderr and a JSON line for the trace file.
    Event {
        stderr: Option<String>,
        file: Option<String>,
    },
    /// A note of the gateway's own, for stderr.
    Note(String),
    /// Everything before it is written: the writer ends.
    Stop,
}

pub(crate) struct Trace {
    tx: SyncSender<Line>,
    format: TraceFormat,
    to_file: bool,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trace").finish_non_exhaustive()
    }
}

/// The writer thread; after [`Trace::close`], join it to know every line is out.
pub(crate) struct Writer(std::thread::JoinHandle<()>);

impl Writer {
    pub(crate) fn finish(self) {
        let _ = self.0.join();
    }
}

impl Trace {
    /// Starts the writer. `file` is the open `--trace-file`.
    pub(crate) fn start(
        format: TraceFormat,
        file: Option<std::fs::File>,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<(Trace, Writer)> {
        let (tx, rx) = sync_channel(QUEUE);
        let to_file = file.is_some();
        let thread = std::thread::Builder::new()
            .name("rotor-trace".into())
            .spawn(move || write_lines(rx, file))?;
        Ok((
            Trace {
                tx,
                format,
                to_file,
                metrics,
            },
            Writer(thread),
        ))
    }

    fn send(&self, line: Line) {
        match self.tx.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.metrics.trace_dropped.inc();
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// A note of the gateway's own (listening, a problem with auth.json), sanitised.
    pub(crate) fn note(&self, text: &str) {
        self.send(Line::Note(format!(
            "rotor: {}\n",
            crate::sanitize::cell(text)
        )));
    }

    pub(crate) fn event(&self, event: &Event, profiles: &[Profile]) {
        let stderr = match self.format {
            TraceFormat::Human => Some(human_line(event, profiles) + "\n"),
            TraceFormat::Json => Some(json_line(event)),
            TraceFormat::Off => None,
        };
        let file = self.to_file.then(|| json_line(event));
        if stderr.is_some() || file.is_some() {
            self.send(Line::Event { stderr, file });
        }
    }

    /// Ends the trace: the writer writes every line queued before, then stops (join it with
    /// [`Writer::finish`]). Lines sent later are dropped.
    pub(crate) fn close(&self) {
        let _ = self.tx.send(Line::Stop);
    }
}

fn json_line(event: &Event) -> String {
    let mut line = String::with_capacity(256);
    write_json(event, &mut line);
    line.push('\n');
    line
}

fn write_lines(rx: Receiver<Line>, mut file: Option<std::fs::File>) {
    let mut stderr = std::io::stderr();
    let mut file_failed = false;
    for line in rx {
        match line {
            Line::Stop => break,
            Line::Note(text) => {
                let _ = stderr.write_all(text.as_bytes());
            }
            Line::Event {
                stderr: text,
                file: json,
            } => {
                if let Some(text) = text {
                    // A closed stderr must not stop the gateway.
                    let _ = stderr.write_all(text.as_bytes());
                }
                if let (Some(json), Some(out)) = (json, file.as_mut())
                    && let Err(e) = out.write_all(json.as_bytes())
                    && !file_failed
                {
                    file_failed = true;
                    let _ = writeln!(stderr, "rotor: cannot write the trace file: {e}");
                }
            }
        }
    }
}

/// The sink of one request: its events go to the metrics and to the trace.
pub(crate) struct RequestSink {
    pub route: &'static str,
    pub trace: Arc<Trace>,
    pub metrics: Arc<Metrics>,
}

impl Sink for RequestSink {
    fn emit(&mut self, event: &Event, profiles: &[Profile]) -> std::io::Result<()> {
        self.metrics.observe(self.route, event);
        self.trace.event(event, profiles);
        Ok(())
    }
}
