//! A guarded pull parser over `quick-xml`: elements with their attributes (entities
//! resolved, prefixes kept), text, and positions as line and column; DOCTYPEs refused,
//! depth and text bounded, every problem a diagnostic.

use std::collections::VecDeque;
use std::io::BufRead;

use quick_xml::XmlVersion;
use quick_xml::events::Event;

use crate::{Diagnostic, Position, ReadError, ReadLimits, Severity};

/// Counts the line breaks in what the parser consumes, so that a byte offset can be turned
/// into a line and column without keeping the input.
struct Counting<R> {
    inner: R,
    consumed: u64,
    /// Offsets of line breaks not yet passed by a position query.
    pending: VecDeque<u64>,
}

impl<R: BufRead> std::io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(buf.len());
            buf[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let n = amt.min(buf.len());
            for (i, b) in buf[..n].iter().enumerate() {
                if *b == b'\n' {
                    self.pending.push_back(self.consumed + i as u64);
                }
            }
        }
        self.consumed += amt as u64;
        self.inner.consume(amt);
    }
}

/// An element start: its qualified name, local name and attributes (qualified name, value).
#[derive(Debug)]
pub(crate) struct Element {
    pub local: String,
    pub attrs: Vec<(String, String)>,
    pub position: Position,
}

impl Element {
    /// An attribute by its local name, whatever its prefix (SDMX messages in the wild put
    /// `action` and `structureRef` with or without one).
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| local_of(k) == local).map(|(_, v)| v.as_str())
    }

    /// An attribute by its exact qualified name.
    pub fn attr_exact(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

pub(crate) fn local_of(name: &str) -> &str {
    name.rsplit_once(':').map(|(_, l)| l).unwrap_or(name)
}

pub(crate) enum Ev {
    Start(Element),
    /// An element's end, with the text it held directly (trimmed).
    End {
        local: String,
        text: String,
    },
}

pub(crate) struct Input<R: BufRead> {
    xml: quick_xml::Reader<Counting<R>>,
    buf: Vec<u8>,
    file: String,
    limits: ReadLimits,
    depth: usize,
    text: String,
    text_overflow: bool,
    done: bool,
    line: u64,
    line_start: u64,
    pub diagnostics: Vec<Diagnostic>,
    pub dropped: usize,
}

impl<R: BufRead> Input<R> {
    pub fn new(file: &str, input: R, limits: ReadLimits) -> Input<R> {
        let mut xml = quick_xml::Reader::from_reader(Counting { inner: input, consumed: 0, pending: VecDeque::new() });
        let config = xml.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        config.trim_text(false);
        Input {
            xml,
            buf: Vec::new(),
            file: file.to_string(),
            limits,
            depth: 0,
            text: String::new(),
            text_overflow: false,
            done: false,
            line: 1,
            line_start: 0,
            diagnostics: Vec::new(),
            dropped: 0,
        }
    }

    /// The line and column of a byte offset at or after every earlier query.
    pub fn position_at(&mut self, offset: u64) -> Position {
        let counting = self.xml.get_mut();
        while let Some(&nl) = counting.pending.front() {
            if nl >= offset {
                break;
            }
            counting.pending.pop_front();
            self.line += 1;
            self.line_start = nl + 1;
        }
        let column = offset.saturating_sub(self.line_start) + 1;
        Position { file: self.file.clone(), line: self.line, column: Some(column.to_string()) }
    }

    pub fn diagnose(&mut self, severity: Severity, code: &'static str, position: Position, message: String) {
        if self.diagnostics.len() < self.limits.max_diagnostics {
            self.diagnostics.push(Diagnostic { severity, code, position, message });
        } else {
            self.dropped += 1;
        }
    }

    pub fn error(&mut self, code: &'static str, position: &Position, message: impl Into<String>) {
        self.diagnose(Severity::Error, code, position.clone(), message.into());
    }

    fn fatal(&mut self, code: &'static str, offset: u64, message: String) {
        let position = self.position_at(offset);
        self.diagnose(Severity::Error, code, position, message);
        self.done = true;
    }

    fn push_text(&mut self, text: &str, offset: u64) {
        if self.text_overflow {
            return;
        }
        if self.text.len() + text.len() > self.limits.max_text {
            self.text_overflow = true;
            let position = self.position_at(offset);
            let max = self.limits.max_text;
            self.diagnose(Severity::Error, "TEXT_TOO_LONG", position, format!("text longer than {max} bytes"));
            return;
        }
        self.text.push_str(text);
    }

    /// The next element start or end; `None` at the end of the document or after a
    /// problem that stops reading.
    pub fn next(&mut self) -> Result<Option<Ev>, ReadError> {
        loop {
            if self.done {
                return Ok(None);
            }
            let offset = self.xml.buffer_position();
            self.buf.clear();
            let event = match self.xml.read_event_into(&mut self.buf) {
                Ok(e) => e,
                Err(quick_xml::Error::Io(e)) => {
                    return Err(ReadError::Io {
                        file: self.file.clone(),
                        source: std::io::Error::new(e.kind(), e.to_string()),
                    });
                }
                Err(e) => {
                    let at = self.xml.error_position();
                    self.fatal("MALFORMED_XML", at, format!("malformed XML: {e}"));
                    return Ok(None);
                }
            };
            match event {
                Event::DocType(_) => {
                    self.fatal(
                        "DTD_REFUSED",
                        offset,
                        "a document type declaration (DOCTYPE) is refused: SDMX messages have none".into(),
                    );
                    return Ok(None);
                }
                Event::Start(start) => {
                    self.depth += 1;
                    if self.depth > self.limits.max_depth {
                        let max = self.limits.max_depth;
                        self.fatal("TOO_DEEP", offset, format!("elements nested deeper than {max}"));
                        return Ok(None);
                    }
                    let qname = start.name().as_ref().to_string();
                    let local = local_of(&qname).to_string();
                    let mut attrs = Vec::new();
                    let mut problem = None;
                    for a in start.attributes() {
                        match a {
                            Ok(a) => {
                                let key = a.key.as_ref().to_string();
                                match a.normalized_value(XmlVersion::Implicit1_0) {
                                    Ok(v) if v.len() > self.limits.max_text => {
                                        problem = Some(("TEXT_TOO_LONG", format!("attribute {key} is too long")));
                                    }
                                    Ok(v) => attrs.push((key, v.into_owned())),
                                    Err(e) => {
                                        problem = Some(("BAD_ENTITY", format!("attribute {key}: {e}")));
                                        break;
                                    }
                                }
                            }
                            Err(e) => {
                                problem = Some(("MALFORMED_XML", format!("malformed attribute: {e}")));
                                break;
                            }
                        }
                    }
                    let position = self.position_at(offset);
                    self.text.clear();
                    self.text_overflow = false;
                    if let Some((code, message)) = problem {
                        self.diagnose(Severity::Error, code, position, message);
                        if code != "TEXT_TOO_LONG" {
                            self.done = true;
                            return Ok(None);
                        }
                        let position = self.position_at(offset);
                        return Ok(Some(Ev::Start(Element { local, attrs, position })));
                    }
                    return Ok(Some(Ev::Start(Element { local, attrs, position })));
                }
                Event::End(end) => {
                    self.depth = self.depth.saturating_sub(1);
                    let qname = end.name().as_ref().to_string();
                    let local = local_of(&qname).to_string();
                    let text = std::mem::take(&mut self.text).trim().to_string();
                    self.text_overflow = false;
                    return Ok(Some(Ev::End { local, text }));
                }
                Event::Empty(_) => {
                    // expand_empty_elements turns these into Start + End.
                    continue;
                }
                Event::Text(t) => {
                    let t = t.xml10_content().into_owned();
                    if self.depth == 0 && !t.trim().is_empty() {
                        self.fatal("MALFORMED_XML", offset, "text outside the root element".into());
                        return Ok(None);
                    }
                    self.push_text(&t, offset);
                }
                Event::CData(t) => {
                    let t = t.xml10_content().into_owned();
                    self.push_text(&t, offset);
                }
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c.to_string()),
                        Ok(None) => match &*r {
                            "lt" => Some("<".into()),
                            "gt" => Some(">".into()),
                            "amp" => Some("&".into()),
                            "apos" => Some("'".into()),
                            "quot" => Some("\"".into()),
                            _ => None,
                        },
                        Err(_) => None,
                    };
                    match resolved {
                        Some(s) => self.push_text(&s, offset),
                        None => {
                            let name = r.chars().take(64).collect::<String>();
                            self.fatal(
                                "BAD_ENTITY",
                                offset,
                                format!("unknown entity or bad character reference &{name};"),
                            );
                            return Ok(None);
                        }
                    }
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => {
                    self.done = true;
                    if self.depth > 0 {
                        let at = self.xml.buffer_position();
                        let position = self.position_at(at);
                        self.diagnose(
                            Severity::Error,
                            "MALFORMED_XML",
                            position,
                            "the document ends before its elements are closed".into(),
                        );
                    }
                    return Ok(None);
                }
            }
        }
    }
}
