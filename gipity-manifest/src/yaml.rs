//! A YAML document as a tree of nodes that remember where they were written.
//!
//! Built from `saphyr-parser`'s events. Aliases are expanded (within a budget, so that a
//! "billion laughs" file is an error rather than a hang) and `<<` merge keys are applied.

use std::collections::HashMap;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, Span};

/// 1-based line and column of a node in the file.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Location {
    /// The line, from 1.
    pub line: usize,
    /// The column in characters, from 1.
    pub column: usize,
}

impl Location {
    pub(crate) fn from_marker(marker: &Marker) -> Self {
        Self {
            line: marker.line(),
            column: marker.col() + 1,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) at: Location,
}

#[derive(Clone, Debug)]
pub(crate) enum Value {
    Null,
    /// The text of a non-null scalar, and whether it was written plain (unquoted).
    Scalar(String, bool),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A syntax error, or a structure this reader refuses.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub(crate) message: String,
    pub(crate) at: Location,
}

/// At most this many nodes may come from expanding aliases.
const ALIAS_BUDGET: usize = 100_000;

/// Lists and mappings nest at most this deep (the tree is built recursively).
const MAX_DEPTH: usize = 128;

impl Node {
    pub(crate) fn kind(&self) -> &'static str {
        match &self.value {
            Value::Null => "nothing",
            Value::Scalar(..) => "a scalar",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// Nodes, plus a node per 64 bytes of text, so that aliasing a long scalar counts too.
    fn size(&self) -> usize {
        match &self.value {
            Value::Null => 1,
            Value::Scalar(text, _) => 1 + text.len() / 64,
            Value::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            Value::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(key, value)| key.size() + value.size())
                    .sum::<usize>()
            }
        }
    }
}

/// The first document of `text`, or `None` for a file without one (empty, or only comments).
pub(crate) fn parse(text: &str) -> Result<Option<Node>, SyntaxError> {
    let mut builder = Builder {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        expanded: 0,
        depth: 0,
    };
    builder.document()
}

struct Builder<'input> {
    parser: Parser<'input, saphyr_parser::StrInput<'input>>,
    anchors: HashMap<usize, Node>,
    expanded: usize,
    depth: usize,
}

impl<'input> Builder<'input> {
    fn next(&mut self) -> Result<(Event<'input>, Span), SyntaxError> {
        match self.parser.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(error)) => Err(SyntaxError {
                message: error.info().to_owned(),
                at: Location::from_marker(error.marker()),
            }),
            None => Err(SyntaxError {
                message: "unexpected end of the file".to_owned(),
                at: Location::default(),
            }),
        }
    }

    fn document(&mut self) -> Result<Option<Node>, SyntaxError> {
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamStart | Event::Nothing => {}
                Event::StreamEnd => return Ok(None),
                Event::DocumentStart(_) => {
                    let (first, span) = self.next()?;
                    if matches!(first, Event::DocumentEnd) {
                        return Ok(None);
                    }
                    let root = self.node(first, span)?;
                    // Only the first document counts; the rest of the stream is still
                    // parsed, so that a syntax error anywhere is reported.
                    while !matches!(self.next()?.0, Event::StreamEnd) {}
                    return Ok(Some(root));
                }
                other => {
                    return Err(SyntaxError {
                        message: format!("unexpected {other:?} before the document"),
                        at: Location::from_marker(&span.start),
                    });
                }
            }
        }
    }

    fn node(&mut self, event: Event<'input>, span: Span) -> Result<Node, SyntaxError> {
        let at = Location::from_marker(&span.start);
        if matches!(event, Event::SequenceStart(..) | Event::MappingStart(..)) {
            if self.depth == MAX_DEPTH {
                return Err(SyntaxError {
                    message: format!("lists and mappings nest deeper than {MAX_DEPTH} levels"),
                    at,
                });
            }
            self.depth += 1;
            let node = self.build(event, at);
            self.depth -= 1;
            return node;
        }
        self.build(event, at)
    }

    fn build(&mut self, event: Event<'input>, at: Location) -> Result<Node, SyntaxError> {
        let (node, anchor) = match event {
            Event::Scalar(text, style, anchor, _tag) => {
                let plain = style == ScalarStyle::Plain;
                let value = if plain && matches!(&*text, "" | "~" | "null" | "Null" | "NULL") {
                    Value::Null
                } else {
                    Value::Scalar(text.into_owned(), plain)
                };
                (Node { value, at }, anchor)
            }
            Event::SequenceStart(anchor, _tag) => {
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, span)?);
                }
                (
                    Node {
                        value: Value::Seq(items),
                        at,
                    },
                    anchor,
                )
            }
            Event::MappingStart(anchor, _tag) => {
                let mut entries: Vec<(Node, Node)> = Vec::new();
                let mut merged: Vec<(Node, Node)> = Vec::new();
                let mut seen: HashMap<String, usize> = HashMap::new();
                loop {
                    let (event, span) = self.next()?;
                    if matches!(event, Event::MappingEnd) {
                        break;
                    }
                    let key = self.node(event, span)?;
                    let (event, span) = self.next()?;
                    let value = self.node(event, span)?;
                    if matches!(&key.value, Value::Scalar(text, true) if text == "<<") {
                        merge_into(&mut merged, value)?;
                        continue;
                    }
                    if let Some(text) = scalar_key(&key) {
                        if let Some(line) = seen.get(text) {
                            return Err(SyntaxError {
                                message: format!("duplicate key `{text}` (first at line {line})"),
                                at: key.at,
                            });
                        }
                        seen.insert(text.to_owned(), key.at.line);
                    }
                    entries.push((key, value));
                }
                // Keys written in the mapping win over merged ones.
                for (key, value) in merged {
                    if scalar_key(&key).is_none_or(|text| !seen.contains_key(text)) {
                        entries.push((key, value));
                    }
                }
                (
                    Node {
                        value: Value::Map(entries),
                        at,
                    },
                    anchor,
                )
            }
            Event::Alias(id) => {
                // The parser refuses unknown anchors; one that is not built yet is the node
                // that holds the alias.
                let Some(target) = self.anchors.get(&id) else {
                    return Err(SyntaxError {
                        message: "an alias inside the node it refers to".to_owned(),
                        at,
                    });
                };
                self.expanded += target.size();
                if self.expanded > ALIAS_BUDGET {
                    return Err(SyntaxError {
                        message: format!(
                            "aliases expand to more than {ALIAS_BUDGET} nodes; the file is \
                             refused rather than expanded"
                        ),
                        at,
                    });
                }
                let node = Node {
                    value: target.value.clone(),
                    at,
                };
                return Ok(node);
            }
            other => {
                return Err(SyntaxError {
                    message: format!("unexpected {other:?}"),
                    at,
                });
            }
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }
}

/// `<<: *base` or `<<: [*a, *b]`: the mappings whose entries are merged (earlier ones win).
fn merge_into(merged: &mut Vec<(Node, Node)>, value: Node) -> Result<(), SyntaxError> {
    let sources = match value.value {
        Value::Map(entries) => vec![entries],
        Value::Seq(items) => {
            let mut sources = Vec::new();
            for item in items {
                match item.value {
                    Value::Map(entries) => sources.push(entries),
                    _ => {
                        return Err(SyntaxError {
                            message: format!("`<<` merges mappings, not {}", item.kind()),
                            at: item.at,
                        });
                    }
                }
            }
            sources
        }
        _ => {
            return Err(SyntaxError {
                message: format!("`<<` merges mappings, not {}", value.kind()),
                at: value.at,
            });
        }
    };
    let mut seen: std::collections::HashSet<String> = merged
        .iter()
        .filter_map(|(key, _)| scalar_key(key).map(str::to_owned))
        .collect();
    for entries in sources {
        for (key, value) in entries {
            let fresh = match scalar_key(&key) {
                Some(text) => seen.insert(text.to_owned()),
                None => true,
            };
            if fresh {
                merged.push((key, value));
            }
        }
    }
    Ok(())
}

pub(crate) fn scalar_key(node: &Node) -> Option<&str> {
    match &node.value {
        Value::Scalar(text, _) => Some(text),
        _ => None,
    }
}
