//! An incremental parser for Server-Sent Events (the `text/event-stream` format of the WHATWG
//! HTML standard), as the three provider APIs stream their answers.
//!
//! Bytes arrive in arbitrary chunks (a UTF-8 character or a line may be split across two); the
//! parser buffers until a line is complete and dispatches an event at each blank line.

/// One dispatched event: its `event:` name (empty when none was given) and its `data:` lines
/// joined with `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
}

#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of an incomplete line.
    pending: Vec<u8>,
    event: String,
    data: Vec<String>,
    /// Bytes of `data` lines in the current event, dropped or not.
    data_len: usize,
    /// The current event's data outgrew the bound: it is dropped when it ends.
    overflowed: bool,
    has_data: bool,
}

/// Longest line kept while waiting for its end; a stream that sends more without a newline is
/// not SSE, and buffering it all would let a hostile server exhaust memory.
const MAX_LINE: usize = 8 * 1024 * 1024;

impl SseParser {
    pub fn new() -> Self {
        SseParser::default()
    }

    /// Feeds a chunk and returns the events it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        self.pending.extend_from_slice(chunk);
        let mut start = 0;
        while let Some(offset) = self.pending[start..]
            .iter()
            .position(|b| *b == b'\n' || *b == b'\r')
        {
            let end = start + offset;
            let line = String::from_utf8_lossy(&self.pending[start..end]).into_owned();
            // A CR LF pair ends one line, not two.
            let mut next = end + 1;
            if self.pending[end] == b'\r' {
                match self.pending.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    // The LF may be in the next chunk: wait for it before deciding.
                    None => break,
                }
            }
            start = next;
            if let Some(event) = self.line(&line) {
                events.push(event);
            }
        }
        self.pending.drain(..start);
        if self.pending.len() > MAX_LINE {
            self.pending.clear();
        }
        events
    }

    /// Ends the stream: a final event without its blank line is dispatched, as the standard
    /// says it must not be; rotor still returns it so a truncated stream can be diagnosed.
    pub fn finish(&mut self) -> Option<SseEvent> {
        if !self.pending.is_empty() {
            let line = String::from_utf8_lossy(&std::mem::take(&mut self.pending)).into_owned();
            if let Some(event) = self.line(&line) {
                return Some(event);
            }
        }
        self.dispatch()
    }

    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None; // a comment, e.g. a keep-alive
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                // One event's data is bounded like one line: a stream of `data:` lines that
                // never ends its event is not SSE, and would grow without end.
                self.data_len += value.len();
                if self.data_len > MAX_LINE {
                    // The whole event is dropped, up to its blank line.
                    self.data.clear();
                    self.overflowed = true;
                    return None;
                }
                self.data.push(value.to_string());
                self.has_data = true;
            }
            _ => {} // id, retry and unknown fields do not matter to a one-shot client
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        let event = std::mem::take(&mut self.event);
        self.data_len = 0;
        if std::mem::take(&mut self.overflowed) {
            self.data.clear();
            self.has_data = false;
            return None;
        }
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        Some(SseEvent {
            event,
            data: std::mem::take(&mut self.data).join("\n"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
        }
    }

    #[test]
    fn parses_events_split_anywhere() {
        let stream = "event: a\ndata: {\"x\":1}\n\n: keep-alive\n\ndata: line1\r\ndata:line2\r\n\r\nevent: b\ndata: é\n\n";
        let whole = SseParser::new().feed(stream.as_bytes());
        let expected = vec![ev("a", "{\"x\":1}"), ev("", "line1\nline2"), ev("b", "é")];
        assert_eq!(whole, expected);
        // Byte by byte, splitting CR LF pairs and UTF-8 characters, gives the same events.
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        for byte in stream.as_bytes() {
            events.extend(parser.feed(&[*byte]));
        }
        assert_eq!(events, expected);
    }

    #[test]
    fn finish_returns_an_unterminated_event() {
        let mut parser = SseParser::new();
        assert!(parser.feed(b"data: partial").is_empty());
        assert_eq!(parser.finish(), Some(ev("", "partial")));
        assert_eq!(parser.finish(), None);
    }

    #[test]
    fn an_event_whose_data_never_ends_is_dropped_not_kept() {
        let mut parser = SseParser::new();
        let line = format!("data: {}\n", "x".repeat(1 << 20));
        for _ in 0..20 {
            assert!(parser.feed(line.as_bytes()).is_empty());
        }
        assert!(parser.data.is_empty(), "nothing of it is kept");
        assert!(
            parser.feed(b"data: tail\n\n").is_empty(),
            "the whole event is dropped"
        );
        assert_eq!(parser.feed(b"data: ok\n\n"), vec![ev("", "ok")]);
    }

    #[test]
    fn events_without_data_are_not_dispatched() {
        assert!(
            SseParser::new()
                .feed(b"event: ping\n\nid: 3\n\n")
                .is_empty()
        );
    }
}
