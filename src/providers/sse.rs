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
    /// The current event's `data:` lines so far, joined with `\n`.
    data: String,
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
        self.feed_lines(chunk, false)
    }

    /// Feeds one whole frame as [`Framer`] cuts them: its event, if it has one. A CR at the
    /// end of a frame ends its blank line (the framer saw that no LF followed it), so the
    /// event is dispatched now, not when the next frame comes: each frame is judged on its
    /// own event.
    pub fn feed_frame(&mut self, frame: &[u8]) -> Vec<SseEvent> {
        self.feed_lines(frame, true)
    }

    fn feed_lines(&mut self, chunk: &[u8], whole: bool) -> Vec<SseEvent> {
        let mut events = Vec::new();
        self.pending.extend_from_slice(chunk);
        // Lines are read where they are (a copy only when one is not UTF-8); the buffer is put
        // back for the rest.
        let pending = std::mem::take(&mut self.pending);
        let mut start = 0;
        while let Some(offset) = pending[start..]
            .iter()
            .position(|b| *b == b'\n' || *b == b'\r')
        {
            let end = start + offset;
            // A CR LF pair ends one line, not two.
            let mut next = end + 1;
            if pending[end] == b'\r' {
                match pending.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    // The LF may be in the next chunk: wait for it before deciding.
                    None if !whole => break,
                    None => {}
                }
            }
            let line = String::from_utf8_lossy(&pending[start..end]);
            start = next;
            if let Some(event) = self.line(&line) {
                events.push(event);
            }
        }
        self.pending = pending;
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
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
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
            data: std::mem::take(&mut self.data),
        })
    }
}

/// Splits a byte stream into whole SSE frames — the lines of one event up to and including
/// the blank line that ends it — byte for byte as they were sent, so a gateway can hold a frame
/// back or pass it on unchanged, and never sends half of one.
#[derive(Debug, Default)]
pub struct Framer {
    buffer: bytes::BytesMut,
    /// How far `buffer` has been scanned: the bytes before it hold no frame end.
    scanned: usize,
    /// Whether the line being scanned is empty so far (the next line end ends the frame).
    line_empty: bool,
}

/// A frame grew past [`MAX_LINE`] without ending: not an SSE stream a client can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an event of the stream grew past {} MiB without ending", MAX_LINE >> 20)]
pub struct FrameTooLong;

impl Framer {
    pub fn new() -> Self {
        Framer {
            line_empty: true,
            ..Framer::default()
        }
    }

    /// Feeds a chunk; returns the frames it completed, in order.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<bytes::Bytes>, FrameTooLong> {
        self.buffer.extend_from_slice(chunk);
        let mut frames = Vec::new();
        let mut i = self.scanned;
        while i < self.buffer.len() {
            let byte = self.buffer[i];
            if byte != b'\n' && byte != b'\r' {
                self.line_empty = false;
                i += 1;
                continue;
            }
            let mut end = i + 1;
            if byte == b'\r' {
                match self.buffer.get(end) {
                    Some(b'\n') => end += 1,
                    Some(_) => {}
                    // A CR LF pair may be split across chunks: wait for the next byte.
                    None => break,
                }
            }
            if self.line_empty {
                frames.push(self.buffer.split_to(end).freeze());
                i = 0;
            } else {
                self.line_empty = true;
                i = end;
            }
        }
        self.scanned = i;
        if self.buffer.len() > MAX_LINE {
            return Err(FrameTooLong);
        }
        Ok(frames)
    }

    /// The stream ended: what is left of a frame that never got its blank line, if anything.
    pub fn finish(&mut self) -> Option<bytes::Bytes> {
        self.scanned = 0;
        self.line_empty = true;
        (!self.buffer.is_empty()).then(|| self.buffer.split().freeze())
    }

    /// Bytes received that do not form a whole frame yet.
    pub fn pending(&self) -> usize {
        self.buffer.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn a_frame_ending_in_a_lone_cr_is_one_event_on_its_own() {
        // Found by fuzzing: the blank line of the first frame is a lone CR, which the framer
        // ends the frame at once it sees the next byte; the parser used to hold the CR back
        // and dispatch the event with the next frame.
        let stream = b"data: a\n\rdata: b\n\n";
        let frames = Framer::new().feed(stream).unwrap();
        assert_eq!(frames.len(), 2);
        let mut parser = SseParser::new();
        assert_eq!(parser.feed_frame(&frames[0]), [ev("", "a")]);
        assert_eq!(parser.feed_frame(&frames[1]), [ev("", "b")]);
    }

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
    fn empty_data_lines_are_kept_as_empty_lines() {
        let events = SseParser::new().feed(b"data:\ndata: b\n\ndata: a\ndata:\n\ndata:\n\n");
        assert_eq!(events, vec![ev("", "\nb"), ev("", "a\n"), ev("", "")]);
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

#[cfg(test)]
mod framer_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn frames_of(stream: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
        let mut framer = Framer::new();
        let mut frames = Vec::new();
        let mut start = 0;
        for &cut in cuts.iter().chain(std::iter::once(&stream.len())) {
            let cut = cut.clamp(start, stream.len());
            frames.extend(framer.feed(&stream[start..cut]).unwrap());
            start = cut;
        }
        frames.extend(framer.finish());
        frames.into_iter().map(|f| f.to_vec()).collect()
    }

    #[test]
    fn frames_end_at_blank_lines_of_any_line_ending() {
        let stream = b"event: a\ndata: 1\n\ndata: 2\r\n\r\ndata: 3\r\rdata: 4\n\ntail";
        let frames = frames_of(stream, &[]);
        let expected: Vec<&[u8]> = vec![
            b"event: a\ndata: 1\n\n",
            b"data: 2\r\n\r\n",
            b"data: 3\r\r",
            b"data: 4\n\n",
            b"tail",
        ];
        assert_eq!(frames, expected);
        // A CR LF pair split across two chunks is one line end, not two.
        assert_eq!(
            frames_of(b"data: x\r\n\r\n", &[8, 9, 10]),
            [b"data: x\r\n\r\n".to_vec()]
        );
    }

    #[test]
    fn a_frame_without_end_is_refused_past_the_bound() {
        let mut framer = Framer::new();
        let line = vec![b'x'; 1 << 20];
        let mut result = Ok(vec![]);
        for _ in 0..9 {
            result = framer.feed(&line);
        }
        assert_eq!(result, Err(FrameTooLong));
    }

    proptest! {
        #[test]
        fn frames_are_the_stream_cut_at_event_ends(
            stream in proptest::collection::vec(prop_oneof![
                Just(b'\n'), Just(b'\r'), Just(b'd'), Just(b':'), Just(b' '), Just(b'x')
            ], 0..200),
            cuts in proptest::collection::vec(0..200usize, 0..6),
        ) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            let frames = frames_of(&stream, &cuts);
            // Nothing lost, added or reordered; the same frames however the bytes arrive.
            prop_assert_eq!(frames.concat(), stream.clone());
            prop_assert_eq!(&frames, &frames_of(&stream, &[]));
            // Parsing frame by frame gives the events of the whole stream.
            let mut whole = SseParser::new();
            let mut expected = whole.feed(&stream);
            expected.extend(whole.finish());
            let mut parser = SseParser::new();
            let mut got = Vec::new();
            for frame in &frames {
                got.extend(parser.feed(frame));
            }
            got.extend(parser.finish());
            prop_assert_eq!(got, expected);
        }
    }
}
