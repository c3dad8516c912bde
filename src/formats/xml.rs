//! The XML reading that every document parser shares.
//!
//! [`read`] makes one streaming pass over a document (quick-xml, with
//! namespace resolution) and builds no tree. It tells a [`Handler`], which
//! holds the rules of one kind of document, about the root element, each
//! element below it, the text and each end tag; the handler keeps the facts
//! it needs.
//!
//! What every document must satisfy, whatever its kind, is checked here once:
//! it is UTF-8, it has no DOCTYPE (so no entity can be declared, let alone
//! expanded), and the input size, the nesting depth, the attributes per
//! element and the namespace declarations in scope stay within the bounds of
//! `crate::limits`, so that no input makes a parse slow. The whole document is
//! read, so a truncated or otherwise broken file is refused rather than
//! half-read, and nothing but whitespace, comments and processing instructions
//! may surround the root element.
//!
//! Both parsers also read dates in the digits-only forms of XML Schema, so
//! [`parse_plain_date`] and [`date_from_digits`] live here too.

use chrono::NaiveDate;
use quick_xml::encoding::Decoder;
use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use crate::limits::{
    XML_ATTRIBUTES_PER_ELEMENT_MAX as ATTRIBUTES_PER_ELEMENT_MAX,
    XML_ELEMENT_DEPTH_MAX as ELEMENT_DEPTH_MAX,
    XML_NAMESPACE_DECLARATIONS_IN_SCOPE_MAX as NAMESPACE_DECLARATIONS_IN_SCOPE_MAX,
};

/// Why [`read`] refused a document, before any document rule was applied.
/// The camt and e-invoice errors wrap it (`CamtError::Xml`, `EInvoiceError::Xml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlError {
    /// The input exceeds the caller's limit; it was not read.
    TooLarge {
        /// Bytes given.
        size: usize,
        /// Bytes accepted at most.
        limit: usize,
    },
    /// The input is not valid UTF-8.
    NotUtf8 {
        /// Offset of the first byte that is not UTF-8.
        position: usize,
    },
    /// A byte order mark or the XML declaration names another encoding.
    UnsupportedEncoding {
        /// The encoding named.
        encoding: String,
    },
    /// The document has a DOCTYPE, which could declare entities.
    DoctypeNotAccepted,
    /// The input is not well-formed XML (or breaks the namespace rules).
    NotWellFormed {
        /// Byte offset where the fault was found.
        position: u64,
        /// What is wrong.
        reason: String,
    },
    /// Elements are nested deeper than `crate::limits::XML_ELEMENT_DEPTH_MAX`.
    TooDeeplyNested {
        /// Levels accepted at most.
        limit: usize,
        /// Byte offset of the element one level too deep.
        position: u64,
    },
    /// An element has more than
    /// `crate::limits::XML_ATTRIBUTES_PER_ELEMENT_MAX` attributes.
    TooManyAttributes {
        /// Attributes accepted at most.
        limit: usize,
        /// Byte offset of the element.
        position: u64,
    },
    /// More than `crate::limits::XML_NAMESPACE_DECLARATIONS_IN_SCOPE_MAX`
    /// namespace declarations are in scope.
    TooManyNamespaceDeclarations {
        /// Declarations accepted in scope at most.
        limit: usize,
        /// Byte offset of the element whose declarations exceed the bound.
        position: u64,
    },
    /// The input holds no element at all.
    NoRootElement,
}

impl XmlError {
    /// The message, naming what the documents are (`camt messages`,
    /// `e-invoices`) where the rule is theirs.
    pub fn describe(&self, documents: &str) -> String {
        match self {
            XmlError::TooLarge { size, limit } => {
                format!("document is larger than {limit} bytes ({size} bytes given)")
            }
            XmlError::NotUtf8 { position } => {
                format!("not UTF-8 at byte {position}: {documents} must be encoded in UTF-8")
            }
            XmlError::UnsupportedEncoding { encoding } => {
                format!("unsupported encoding {encoding:?}: {documents} must be encoded in UTF-8")
            }
            XmlError::DoctypeNotAccepted => format!(
                "a DOCTYPE is not accepted: {documents} never need one, and entities are not expanded"
            ),
            XmlError::NotWellFormed { position, reason } => {
                format!("not well-formed XML at byte {position}: {reason}")
            }
            XmlError::TooDeeplyNested { limit, position } => format!(
                "too deeply nested: more than {limit} levels of elements at byte {position}"
            ),
            XmlError::TooManyAttributes { limit, position } => format!(
                "too many attributes: more than {limit} on the element at byte {position}"
            ),
            XmlError::TooManyNamespaceDeclarations { limit, position } => format!(
                "too many namespace declarations: more than {limit} in scope at byte {position}"
            ),
            XmlError::NoRootElement => "no root element: the input holds no XML element".into(),
        }
    }
}

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe("documents"))
    }
}

impl std::error::Error for XmlError {}

/// The rules of one kind of document: what [`read`] tells it, in document
/// order.
pub trait Handler {
    /// The parser's error; every [`XmlError`] converts into it.
    type Error: From<XmlError>;

    /// The root element opens: accept it, or refuse the document. Its
    /// attributes are checked after this.
    fn open_root(&mut self, namespace: Option<&[u8]>, local_name: &str) -> Result<(), Self::Error>;

    /// An element below the root opens. Its attributes are already checked.
    fn open(&mut self, element: &Element<'_>) -> Result<(), Self::Error>;

    /// Character data inside the root element, unescaped: text, a resolved
    /// reference or a CDATA section. One run of text may come in pieces.
    fn text(&mut self, content: &str);

    /// The innermost open element below the root closes. The root's own end
    /// tag is not reported: the reader checks what may follow it.
    fn close(&mut self) -> Result<(), Self::Error>;

    /// The local name to report when the input ends while elements are
    /// still open; `None` names the root.
    fn innermost_open_element(&self) -> Option<&str>;
}

/// An element below the root, as it opens.
pub struct Element<'a> {
    /// The element's namespace, resolved from its prefix; `None` when the
    /// element is in no namespace.
    pub namespace: Option<&'a [u8]>,
    /// The element's name without its prefix.
    pub local_name: &'a str,
    start: &'a BytesStart<'a>,
    decoder: Decoder,
    position: u64,
}

impl Element<'_> {
    /// The unescaped value of the unprefixed attribute `name`, if the
    /// element has it.
    pub fn attribute(&self, name: &str) -> Result<Option<String>, XmlError> {
        for attribute in self.start.attributes() {
            let attribute =
                attribute.map_err(|error| not_well_formed(self.position, error.to_string()))?;
            if attribute.key.as_ref() == name.as_bytes() {
                let value = attribute
                    .decode_and_unescape_value_with(self.decoder, resolve_xml_entity)
                    .map_err(|error| not_well_formed(self.position, error.to_string()))?;
                return Ok(Some(value.into_owned()));
            }
        }
        Ok(None)
    }
}

/// The whitespace of XML (production 3, `S`), which XML Schema collapses
/// around values.
pub fn is_xml_whitespace(character: char) -> bool {
    matches!(character, ' ' | '\t' | '\r' | '\n')
}

/// Words an element's namespace for messages: `in namespace "..."`, or
/// `without a namespace`.
pub fn describe_namespace(namespace: &Option<String>) -> String {
    match namespace {
        Some(namespace) => format!("in namespace {namespace:?}"),
        None => "without a namespace".to_owned(),
    }
}

/// `YYYY-MM-DD`: an xsd:date without a time zone, as UBL and camt write
/// dates.
pub fn parse_plain_date(text: &str) -> Option<NaiveDate> {
    if text.len() != 10 || text.get(4..5)? != "-" || text.get(7..8)? != "-" {
        return None;
    }
    date_from_digits(text.get(0..4)?, text.get(5..7)?, text.get(8..10)?)
}

/// The date of a year, a month and a day written in digits, if it exists.
pub fn date_from_digits(year: &str, month: &str, day: &str) -> Option<NaiveDate> {
    // `parse` would also take a sign; only digits are a date here.
    let all_digits = [year, month, day]
        .iter()
        .all(|part| part.bytes().all(|byte| byte.is_ascii_digit()));
    if !all_digits {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
}

/// Reads the whole document in `bytes`, telling `handler` what it finds.
/// Succeeds once the root element has closed and nothing but whitespace,
/// comments and processing instructions follow it.
///
/// Pure: it looks at nothing but `bytes`.
pub fn read<H: Handler>(bytes: &[u8], limit: usize, handler: &mut H) -> Result<(), H::Error> {
    if bytes.len() > limit {
        return Err(XmlError::TooLarge {
            size: bytes.len(),
            limit,
        }
        .into());
    }
    let (offset, body) = strip_byte_order_mark(bytes)?;
    // Checking UTF-8 once, up front, gives the exact byte at fault and lets
    // the reader work on a `str`, so no later text can fail to decode.
    let text = std::str::from_utf8(body).map_err(|error| XmlError::NotUtf8 {
        position: offset + error.valid_up_to(),
    })?;
    Scan {
        handler,
        root_local_name: None,
        root_closed: false,
        depth: 0,
        declarations_per_element: Vec::new(),
        declarations_in_scope: 0,
    }
    .run(text, offset as u64)
}

/// Removes a UTF-8 byte order mark and refuses the UTF-16 and UTF-32 ones.
/// Returns how many bytes were removed, to report positions in the caller's
/// bytes.
fn strip_byte_order_mark(bytes: &[u8]) -> Result<(usize, &[u8]), XmlError> {
    const UTF8: &[u8] = &[0xEF, 0xBB, 0xBF];
    // UTF-32 marks first: the little-endian one begins like UTF-16's.
    const OTHERS: &[(&[u8], &str)] = &[
        (&[0x00, 0x00, 0xFE, 0xFF], "UTF-32BE"),
        (&[0xFF, 0xFE, 0x00, 0x00], "UTF-32LE"),
        (&[0xFE, 0xFF], "UTF-16BE"),
        (&[0xFF, 0xFE], "UTF-16LE"),
    ];
    if let Some(rest) = bytes.strip_prefix(UTF8) {
        return Ok((UTF8.len(), rest));
    }
    for (mark, encoding) in OTHERS {
        if bytes.starts_with(mark) {
            return Err(XmlError::UnsupportedEncoding {
                encoding: (*encoding).to_owned(),
            });
        }
    }
    Ok((0, bytes))
}

/// Where the reading stands.
struct Scan<'a, H> {
    handler: &'a mut H,
    /// Set once the root element has opened.
    root_local_name: Option<String>,
    root_closed: bool,
    /// Open elements below the root.
    depth: usize,
    /// Namespace declarations of each open element, the root included.
    declarations_per_element: Vec<usize>,
    declarations_in_scope: usize,
}

/// What kind of character data the reader produced.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CharacterData {
    Text,
    Reference,
    Section,
}

fn not_well_formed(position: u64, reason: impl Into<String>) -> XmlError {
    XmlError::NotWellFormed {
        position,
        reason: reason.into(),
    }
}

impl<H: Handler> Scan<'_, H> {
    /// Reads every event of `text`. `offset` is the number of bytes before
    /// `text` in the caller's input (a byte order mark).
    fn run(mut self, text: &str, offset: u64) -> Result<(), H::Error> {
        let mut reader = NsReader::from_str(text);
        // The default already refuses mismatched end tags; say so, since
        // well-formedness of the element tree depends on it.
        reader.config_mut().check_end_names = true;
        reader.config_mut().allow_unmatched_ends = false;
        loop {
            let position = offset + reader.buffer_position();
            let event = match reader.read_event() {
                Ok(event) => event,
                Err(error) => {
                    return Err(not_well_formed(
                        offset + reader.error_position(),
                        error.to_string(),
                    )
                    .into())
                }
            };
            match event {
                Event::Decl(declaration) => {
                    if position != offset {
                        return Err(not_well_formed(
                            position,
                            "an XML declaration is only allowed at the very start",
                        )
                        .into());
                    }
                    if let Some(encoding) = declaration.encoding() {
                        let encoding = encoding
                            .map_err(|error| not_well_formed(position, error.to_string()))?;
                        if !encoding.eq_ignore_ascii_case(b"UTF-8") {
                            return Err(XmlError::UnsupportedEncoding {
                                encoding: String::from_utf8_lossy(&encoding).into_owned(),
                            }
                            .into());
                        }
                    }
                }
                Event::DocType(_) => return Err(XmlError::DoctypeNotAccepted.into()),
                Event::Start(start) => self.open(&reader, &start, position)?,
                Event::Empty(start) => {
                    self.open(&reader, &start, position)?;
                    self.close(position)?;
                }
                Event::End(_) => self.close(position)?,
                Event::Text(text) => {
                    let content = text
                        .xml10_content()
                        .map_err(|error| not_well_formed(position, error.to_string()))?;
                    self.character_data(&content, CharacterData::Text, position)?;
                }
                Event::CData(section) => {
                    let content = section
                        .xml10_content()
                        .map_err(|error| not_well_formed(position, error.to_string()))?;
                    self.character_data(&content, CharacterData::Section, position)?;
                }
                Event::GeneralRef(reference) => {
                    let resolved = resolve_reference(&reference, position)?;
                    let mut buffer = [0; 4];
                    let content = match resolved {
                        Resolved::Character(character) => character.encode_utf8(&mut buffer),
                        Resolved::Text(text) => text,
                    };
                    self.character_data(content, CharacterData::Reference, position)?;
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => break,
            }
        }
        self.check_closed(offset + reader.buffer_position())
            .map_err(H::Error::from)
    }

    /// Bounds the element's attributes and namespace declarations, resolves
    /// its namespace and hands it to the handler.
    fn open(
        &mut self,
        reader: &NsReader<&[u8]>,
        start: &BytesStart<'_>,
        position: u64,
    ) -> Result<(), H::Error> {
        // Before anything iterates the attributes with duplicate checks or
        // resolves a prefix against the declarations in scope.
        let declarations = count_namespace_declarations(start, position)?;
        self.enter_namespace_scope(declarations, position)?;
        let (resolution, local_name) = reader.resolve_element(start.name());
        let namespace = match resolution {
            ResolveResult::Bound(namespace) => Some(namespace.0),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(prefix) => {
                return Err(not_well_formed(
                    position,
                    format!(
                        "undeclared namespace prefix {:?}",
                        String::from_utf8_lossy(&prefix)
                    ),
                )
                .into())
            }
        };
        let local_name = std::str::from_utf8(local_name.as_ref())
            .map_err(|error| not_well_formed(position, error.to_string()))?;
        if self.root_closed {
            return Err(not_well_formed(
                position,
                format!("a second root element <{local_name}> follows the document element"),
            )
            .into());
        }
        if self.root_local_name.is_none() {
            self.handler.open_root(namespace, local_name)?;
            check_attributes(start, reader.decoder(), position)?;
            self.root_local_name = Some(local_name.to_owned());
            return Ok(());
        }
        // The root is level 1, `depth` counts the levels below it.
        if self.depth + 2 > ELEMENT_DEPTH_MAX {
            return Err(XmlError::TooDeeplyNested {
                limit: ELEMENT_DEPTH_MAX,
                position,
            }
            .into());
        }
        check_attributes(start, reader.decoder(), position)?;
        self.depth += 1;
        self.handler.open(&Element {
            namespace,
            local_name,
            start,
            decoder: reader.decoder(),
            position,
        })
    }

    fn enter_namespace_scope(
        &mut self,
        declarations: usize,
        position: u64,
    ) -> Result<(), XmlError> {
        self.declarations_in_scope += declarations;
        self.declarations_per_element.push(declarations);
        if self.declarations_in_scope > NAMESPACE_DECLARATIONS_IN_SCOPE_MAX {
            return Err(XmlError::TooManyNamespaceDeclarations {
                limit: NAMESPACE_DECLARATIONS_IN_SCOPE_MAX,
                position,
            });
        }
        Ok(())
    }

    fn close(&mut self, position: u64) -> Result<(), H::Error> {
        if self.root_local_name.is_none() {
            return Err(not_well_formed(position, "end tag without a start tag").into());
        }
        if let Some(declarations) = self.declarations_per_element.pop() {
            self.declarations_in_scope -= declarations;
        }
        if self.depth == 0 {
            self.root_closed = true;
            return Ok(());
        }
        self.depth -= 1;
        self.handler.close()
    }

    fn character_data(
        &mut self,
        content: &str,
        kind: CharacterData,
        position: u64,
    ) -> Result<(), XmlError> {
        if self.root_local_name.is_none() || self.root_closed {
            // Only whitespace, comments and processing instructions may
            // surround the root element.
            if kind != CharacterData::Text || !content.chars().all(is_xml_whitespace) {
                return Err(not_well_formed(
                    position,
                    "content outside the root element",
                ));
            }
            return Ok(());
        }
        self.handler.text(content);
        Ok(())
    }

    /// At the end of the input: the root must have been there, and closed.
    fn check_closed(&self, end_position: u64) -> Result<(), XmlError> {
        let Some(root_local_name) = &self.root_local_name else {
            return Err(XmlError::NoRootElement);
        };
        if !self.root_closed {
            let open = self
                .handler
                .innermost_open_element()
                .unwrap_or(root_local_name);
            return Err(not_well_formed(
                end_position,
                format!("unexpected end of input: <{open}> is not closed"),
            ));
        }
        Ok(())
    }
}

/// Counts the namespace declarations (`xmlns`, `xmlns:prefix`) among the
/// attributes of an element, refusing too many attributes. The iteration
/// skips the duplicate check, so its cost stays linear.
fn count_namespace_declarations(start: &BytesStart<'_>, position: u64) -> Result<usize, XmlError> {
    let mut attributes = 0;
    let mut declarations = 0;
    for attribute in start.attributes().with_checks(false) {
        let attribute = attribute.map_err(|error| not_well_formed(position, error.to_string()))?;
        attributes += 1;
        if attributes > ATTRIBUTES_PER_ELEMENT_MAX {
            return Err(XmlError::TooManyAttributes {
                limit: ATTRIBUTES_PER_ELEMENT_MAX,
                position,
            });
        }
        if attribute.key.as_namespace_binding().is_some() {
            declarations += 1;
        }
    }
    Ok(declarations)
}

/// Reads every attribute of an element, with the duplicate check, and
/// unescapes its value, so that a malformed attribute is refused even where
/// no handler looks at it.
fn check_attributes(
    start: &BytesStart<'_>,
    decoder: Decoder,
    position: u64,
) -> Result<(), XmlError> {
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|error| not_well_formed(position, error.to_string()))?;
        attribute
            .decode_and_unescape_value_with(decoder, resolve_xml_entity)
            .map_err(|error| not_well_formed(position, error.to_string()))?;
    }
    Ok(())
}

/// What a reference in text stands for.
enum Resolved {
    Character(char),
    Text(&'static str),
}

/// Resolves a character reference or one of the five predefined entities.
/// Any other entity would need a DTD to declare it, and DTDs are refused.
fn resolve_reference(reference: &BytesRef<'_>, position: u64) -> Result<Resolved, XmlError> {
    let character = reference
        .resolve_char_ref()
        .map_err(|error| not_well_formed(position, error.to_string()))?;
    if let Some(character) = character {
        if !is_xml_character(character) {
            return Err(not_well_formed(
                position,
                format!(
                    "character reference to U+{:04X}, which XML does not allow",
                    u32::from(character)
                ),
            ));
        }
        return Ok(Resolved::Character(character));
    }
    let name = reference
        .decode()
        .map_err(|error| not_well_formed(position, error.to_string()))?;
    match resolve_xml_entity(&name) {
        Some(text) => Ok(Resolved::Text(text)),
        None => Err(not_well_formed(
            position,
            format!("undeclared entity &{name};"),
        )),
    }
}

/// The characters XML 1.0 allows (production 2, `Char`).
fn is_xml_character(character: char) -> bool {
    matches!(u32::from(character),
        0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}
