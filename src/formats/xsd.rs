//! Checks a document against an XML Schema of the ISO 20022 kind: every
//! element's children in the order, number and choice its complex type says,
//! every value against its simple type's facets (length, pattern,
//! enumeration, digits), and required attributes present.
//!
//! ISO 20022 schemas use a small part of XML Schema: named complex types
//! holding one flat `sequence` or `choice` of elements, simple types
//! restricting a built-in type, and one `simpleContent` extension for
//! amounts with a currency. That part is what this module reads; a schema
//! using anything else is refused when it is loaded, so nothing is silently
//! left unchecked. Both the schema and the document are read with the shared
//! bounded reader of [`super::xml`].

use std::collections::HashMap;

use super::xml::{self, Element, XmlError};

const XS: &[u8] = b"http://www.w3.org/2001/XMLSchema";

/// Attributes kept when a tree is read: the schema's own, and `Ccy`.
const KEPT_ATTRIBUTES: [&str; 8] = [
    "name",
    "type",
    "base",
    "value",
    "minOccurs",
    "maxOccurs",
    "use",
    "Ccy",
];

/// An element of a document, with its text and kept attributes.
#[derive(Debug, Clone, Default)]
struct Node {
    namespace: Option<Vec<u8>>,
    name: String,
    attributes: Vec<(&'static str, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Builds the tree of a document with the shared reader.
#[derive(Default)]
struct TreeBuilder {
    open: Vec<Node>,
}

impl xml::Handler for TreeBuilder {
    type Error = XmlError;

    fn open_root(&mut self, namespace: Option<&[u8]>, local_name: &str) -> Result<(), XmlError> {
        self.open.push(Node {
            namespace: namespace.map(<[u8]>::to_vec),
            name: local_name.into(),
            ..Node::default()
        });
        Ok(())
    }

    fn open(&mut self, element: &Element<'_>) -> Result<(), XmlError> {
        let mut attributes = Vec::new();
        for name in KEPT_ATTRIBUTES {
            if let Some(value) = element.attribute(name)? {
                attributes.push((name, value));
            }
        }
        self.open.push(Node {
            namespace: element.namespace.map(<[u8]>::to_vec),
            name: element.local_name.into(),
            attributes,
            ..Node::default()
        });
        Ok(())
    }

    fn text(&mut self, content: &str) {
        if let Some(node) = self.open.last_mut() {
            node.text.push_str(content);
        }
    }

    fn close(&mut self) -> Result<(), XmlError> {
        if let Some(node) = self.open.pop() {
            if let Some(parent) = self.open.last_mut() {
                parent.children.push(node);
            }
        }
        Ok(())
    }

    fn innermost_open_element(&self) -> Option<&str> {
        self.open.last().map(|n| n.name.as_str())
    }
}

fn tree(bytes: &[u8]) -> Result<Node, String> {
    let mut builder = TreeBuilder::default();
    xml::read(bytes, crate::limits::BANK_STATEMENT_BYTES_MAX, &mut builder)
        .map_err(|e| format!("{e:?}"))?;
    // The root's end tag is not reported: it is what is left open.
    builder
        .open
        .pop()
        .ok_or_else(|| "the document is empty".to_string())
}

/// One element a complex type allows, with how often.
#[derive(Debug, Clone)]
struct Particle {
    name: String,
    type_name: String,
    min: usize,
    /// `None` is unbounded.
    max: Option<usize>,
}

#[derive(Debug, Clone)]
enum Content {
    Sequence(Vec<Particle>),
    Choice(Vec<Particle>),
    /// Text of a simple type, with attributes (name, required).
    Simple {
        base: String,
        attributes: Vec<(String, bool)>,
    },
    /// Anything (`xs:any`): not checked.
    Any,
}

#[derive(Debug, Clone, Default)]
struct Facets {
    base: String,
    enumeration: Vec<String>,
    patterns: Vec<regex::Regex>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    fraction_digits: Option<u32>,
    total_digits: Option<u32>,
    min_inclusive: Option<rust_decimal::Decimal>,
}

/// A schema, read once.
#[derive(Debug)]
pub struct Schema {
    namespace: String,
    root: (String, String),
    complex: HashMap<String, Content>,
    simple: HashMap<String, Facets>,
}

fn is_xs(node: &Node, name: &str) -> bool {
    node.namespace.as_deref() == Some(XS) && node.name == name
}

fn required<'a>(node: &'a Node, attribute: &str) -> Result<&'a str, String> {
    node.attribute(attribute)
        .ok_or_else(|| format!("schema: xs:{} without {attribute}", node.name))
}

fn particles(group: &Node) -> Result<Vec<Particle>, String> {
    group
        .children
        .iter()
        .map(|element| {
            if !is_xs(element, "element") {
                return Err(format!(
                    "schema: xs:{} inside xs:{} is not supported",
                    element.name, group.name
                ));
            }
            let occurs = |name: &str, default: usize| -> Result<Option<usize>, String> {
                match element.attribute(name) {
                    None => Ok(Some(default)),
                    Some("unbounded") => Ok(None),
                    Some(n) => n
                        .parse()
                        .map(Some)
                        .map_err(|_| format!("schema: {name}={n:?}")),
                }
            };
            Ok(Particle {
                name: required(element, "name")?.into(),
                type_name: required(element, "type")?.into(),
                min: occurs("minOccurs", 1)?.unwrap_or(0),
                max: occurs("maxOccurs", 1)?,
            })
        })
        .collect()
}

fn complex_content(complex: &Node) -> Result<Content, String> {
    let [content] = complex.children.as_slice() else {
        return Err(format!(
            "schema: complex type {:?} must hold exactly one group",
            complex.attribute("name")
        ));
    };
    if is_xs(content, "sequence") {
        if content.children.iter().any(|c| is_xs(c, "any")) {
            return Ok(Content::Any);
        }
        return Ok(Content::Sequence(particles(content)?));
    }
    if is_xs(content, "choice") {
        return Ok(Content::Choice(particles(content)?));
    }
    if is_xs(content, "simpleContent") {
        let extension = content
            .children
            .iter()
            .find(|c| is_xs(c, "extension"))
            .ok_or("schema: simpleContent without extension")?;
        let attributes = extension
            .children
            .iter()
            .filter(|a| is_xs(a, "attribute"))
            .map(|a| {
                Ok((
                    required(a, "name")?.to_string(),
                    a.attribute("use") == Some("required"),
                ))
            })
            .collect::<Result<_, String>>()?;
        return Ok(Content::Simple {
            base: required(extension, "base")?.into(),
            attributes,
        });
    }
    Err(format!("schema: xs:{} is not supported", content.name))
}

fn simple_facets(simple: &Node) -> Result<Facets, String> {
    let restriction = simple
        .children
        .iter()
        .find(|c| is_xs(c, "restriction"))
        .ok_or_else(|| {
            format!(
                "schema: simple type {:?} without restriction",
                simple.attribute("name")
            )
        })?;
    let mut facets = Facets {
        base: required(restriction, "base")?.into(),
        ..Facets::default()
    };
    for facet in &restriction.children {
        let value = required(facet, "value")?;
        let number = || {
            value
                .parse()
                .map_err(|_| format!("schema: facet {value:?}"))
        };
        match facet.name.as_str() {
            "enumeration" => facets.enumeration.push(value.into()),
            "pattern" => facets.patterns.push(
                regex::Regex::new(&format!("^(?:{value})$"))
                    .map_err(|e| format!("schema: pattern {value:?}: {e}"))?,
            ),
            "minLength" => facets.min_length = Some(number()?),
            "maxLength" => facets.max_length = Some(number()?),
            "fractionDigits" => {
                facets.fraction_digits = Some(value.parse().map_err(|_| "schema: fractionDigits")?)
            }
            "totalDigits" => {
                facets.total_digits = Some(value.parse().map_err(|_| "schema: totalDigits")?)
            }
            "minInclusive" => {
                facets.min_inclusive = Some(value.parse().map_err(|_| "schema: minInclusive")?)
            }
            other => return Err(format!("schema: facet xs:{other} is not supported")),
        }
    }
    Ok(facets)
}

impl Schema {
    /// Reads a schema; refuses the parts of XML Schema this module does not check.
    pub fn parse(bytes: &[u8]) -> Result<Schema, String> {
        let root = tree(bytes)?;
        if !is_xs(&root, "schema") {
            return Err("schema: the root is not xs:schema".into());
        }
        // The shared reader does not report the root's attributes; the
        // target namespace is read from the schema's start tag.
        let namespace = regex::bytes::Regex::new(r#"targetNamespace="([^"]+)""#)
            .expect("a valid pattern")
            .captures(bytes)
            .and_then(|c| String::from_utf8(c[1].to_vec()).ok())
            .ok_or("schema: no targetNamespace")?;
        let mut schema = Schema {
            namespace,
            root: (String::new(), String::new()),
            complex: HashMap::new(),
            simple: HashMap::new(),
        };
        for definition in &root.children {
            let name = required(definition, "name")?.to_string();
            if is_xs(definition, "element") {
                schema.root = (name, required(definition, "type")?.into());
            } else if is_xs(definition, "complexType") {
                schema.complex.insert(name, complex_content(definition)?);
            } else if is_xs(definition, "simpleType") {
                schema.simple.insert(name, simple_facets(definition)?);
            } else {
                return Err(format!(
                    "schema: top-level xs:{} is not supported",
                    definition.name
                ));
            }
        }
        Ok(schema)
    }

    /// Checks a document; the error names the first element at fault by its path.
    pub fn validate(&self, document: &[u8]) -> Result<(), String> {
        let root = tree(document)?;
        if root.name != self.root.0 {
            return Err(format!("the root is {}, not {}", root.name, self.root.0));
        }
        self.element(&root, &self.root.1, &root.name)
    }

    fn element(&self, node: &Node, type_name: &str, path: &str) -> Result<(), String> {
        if node.namespace.as_deref() != Some(self.namespace.as_bytes()) {
            return Err(format!("{path}: not in namespace {}", self.namespace));
        }
        if let Some(content) = self.complex.get(type_name) {
            return self.complex_element(node, content, path);
        }
        if !node.children.is_empty() {
            return Err(format!("{path}: a {type_name} holds text, not elements"));
        }
        self.value(node.text.trim(), type_name, path)
    }

    fn complex_element(&self, node: &Node, content: &Content, path: &str) -> Result<(), String> {
        let child_path = |child: &Node| format!("{path}/{}", child.name);
        match content {
            Content::Any => Ok(()),
            Content::Simple { base, attributes } => {
                for (name, required) in attributes {
                    if *required && node.attribute(name).is_none() {
                        return Err(format!("{path}: attribute {name} is required"));
                    }
                }
                if !node.children.is_empty() {
                    return Err(format!("{path}: holds text, not elements"));
                }
                self.value(node.text.trim(), base, path)
            }
            Content::Choice(options) => {
                let [child] = node.children.as_slice() else {
                    return Err(format!(
                        "{path}: must hold exactly one of {}",
                        names(options)
                    ));
                };
                let option = options
                    .iter()
                    .find(|o| o.name == child.name)
                    .ok_or_else(|| {
                        format!(
                            "{}: not allowed; expected one of {}",
                            child_path(child),
                            names(options)
                        )
                    })?;
                self.element(child, &option.type_name, &child_path(child))
            }
            Content::Sequence(particles) => {
                let mut children = node.children.iter().peekable();
                for particle in particles {
                    let mut count = 0;
                    while let Some(child) = children.next_if(|c| c.name == particle.name) {
                        count += 1;
                        if particle.max.is_some_and(|max| count > max) {
                            return Err(format!(
                                "{}: at most {} allowed",
                                child_path(child),
                                particle.max.unwrap_or(0)
                            ));
                        }
                        self.element(child, &particle.type_name, &child_path(child))?;
                    }
                    if count < particle.min {
                        return Err(format!("{path}/{}: missing (required here)", particle.name));
                    }
                }
                match children.next() {
                    None => Ok(()),
                    Some(extra) => Err(format!(
                        "{}: not allowed here (out of order, or unknown to {})",
                        child_path(extra),
                        node.name
                    )),
                }
            }
        }
    }

    fn value(&self, text: &str, type_name: &str, path: &str) -> Result<(), String> {
        let Some(facets) = self.simple.get(type_name) else {
            return builtin(text, type_name, path);
        };
        builtin(text, &facets.base, path)?;
        let length = text.chars().count();
        if facets.min_length.is_some_and(|m| length < m)
            || facets.max_length.is_some_and(|m| length > m)
        {
            return Err(format!(
                "{path}: {text:?} has {length} characters, {type_name} allows {}..{}",
                facets.min_length.unwrap_or(0),
                facets.max_length.map_or("".into(), |m| m.to_string())
            ));
        }
        if !facets.enumeration.is_empty() && !facets.enumeration.iter().any(|e| e == text) {
            return Err(format!("{path}: {text:?} is not a {type_name} code"));
        }
        if let Some(pattern) = facets.patterns.iter().find(|p| !p.is_match(text)) {
            return Err(format!(
                "{path}: {text:?} does not match {type_name} ({pattern})"
            ));
        }
        if facets.fraction_digits.is_some()
            || facets.total_digits.is_some()
            || facets.min_inclusive.is_some()
        {
            let number: rust_decimal::Decimal = text
                .parse()
                .map_err(|_| format!("{path}: {text:?} is not a decimal"))?;
            let fraction = text.split_once('.').map_or(0, |(_, f)| f.len() as u32);
            let digits = text.chars().filter(char::is_ascii_digit).count() as u32;
            if facets.fraction_digits.is_some_and(|f| fraction > f)
                || facets.total_digits.is_some_and(|t| digits > t)
                || facets.min_inclusive.is_some_and(|m| number < m)
            {
                return Err(format!("{path}: {text:?} is out of range for {type_name}"));
            }
        }
        Ok(())
    }
}

fn names(particles: &[Particle]) -> String {
    particles
        .iter()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The built-in types ISO 20022 schemas restrict.
fn builtin(text: &str, type_name: &str, path: &str) -> Result<(), String> {
    let ok = match type_name {
        "xs:string" => true,
        "xs:boolean" => matches!(text, "true" | "false" | "1" | "0"),
        "xs:decimal" => text.parse::<rust_decimal::Decimal>().is_ok(),
        "xs:date" => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
        "xs:dateTime" => {
            chrono::DateTime::parse_from_rfc3339(text).is_ok()
                || chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        }
        "xs:gYear" => text.len() == 4 && text.chars().all(|c| c.is_ascii_digit()),
        "xs:time" => chrono::NaiveTime::parse_from_str(text, "%H:%M:%S%.f").is_ok(),
        other => return Err(format!("{path}: type {other} is not known to the checker")),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{path}: {text:?} is not a valid {type_name}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAIN_001: &[u8] = include_bytes!("schemas/pain.001.001.09.xsd");

    fn document(payment: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"><CstmrCdtTrfInitn>
<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-22T10:00:00Z</CreDtTm><NbOfTxs>1</NbOfTxs><InitgPty><Nm>x</Nm></InitgPty></GrpHdr>
<PmtInf>{payment}</PmtInf></CstmrCdtTrfInitn></Document>"#
        )
    }

    const PAYMENT: &str = r#"<PmtInfId>B1</PmtInfId><PmtMtd>TRF</PmtMtd><ReqdExctnDt><Dt>2026-11-23</Dt></ReqdExctnDt><Dbtr><Nm>Op</Nm></Dbtr><DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct><DbtrAgt><FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId></DbtrAgt><CdtTrfTxInf><PmtId><EndToEndId>E1</EndToEndId></PmtId><Amt><InstdAmt Ccy="EUR">10.00</InstdAmt></Amt><Cdtr><Nm>S</Nm></Cdtr><CdtrAcct><Id><IBAN>FR1420041010050500013M02606</IBAN></Id></CdtrAcct></CdtTrfTxInf>"#;

    #[test]
    fn the_iso_schema_loads_and_a_minimal_transfer_is_valid() {
        let schema = Schema::parse(PAIN_001).unwrap();
        assert_eq!(schema.root.0, "Document");
        schema.validate(document(PAYMENT).as_bytes()).unwrap();
    }

    #[test]
    fn out_of_order_missing_and_malformed_elements_are_named() {
        let schema = Schema::parse(PAIN_001).unwrap();
        let cases = [
            (
                PAYMENT.replace("<PmtInfId>B1</PmtInfId><PmtMtd>TRF</PmtMtd>", "<PmtMtd>TRF</PmtMtd><PmtInfId>B1</PmtInfId>"),
                "Document/CstmrCdtTrfInitn/PmtInf/PmtInfId: missing (required here)",
            ),
            (
                PAYMENT.replace("<Dbtr><Nm>Op</Nm></Dbtr>", ""),
                "Document/CstmrCdtTrfInitn/PmtInf/Dbtr: missing (required here)",
            ),
            (
                PAYMENT.replace("<PmtMtd>TRF</PmtMtd>", "<PmtMtd>XXX</PmtMtd>"),
                "Document/CstmrCdtTrfInitn/PmtInf/PmtMtd: \"XXX\" is not a PaymentMethod3Code code",
            ),
            (
                PAYMENT.replace("10.00", "10.001234"),
                "Document/CstmrCdtTrfInitn/PmtInf/CdtTrfTxInf/Amt/InstdAmt: \"10.001234\" is out of range for ActiveOrHistoricCurrencyAndAmount_SimpleType",
            ),
            (
                PAYMENT.replace(" Ccy=\"EUR\"", ""),
                "Document/CstmrCdtTrfInitn/PmtInf/CdtTrfTxInf/Amt/InstdAmt: attribute Ccy is required",
            ),
            (
                PAYMENT.replace("DE89370400440532013000", "de89"),
                "Document/CstmrCdtTrfInitn/PmtInf/DbtrAcct/Id/IBAN: \"de89\" does not match IBAN2007Identifier",
            ),
        ];
        for (payment, expected) in cases {
            let error = schema.validate(document(&payment).as_bytes()).unwrap_err();
            assert!(error.starts_with(expected), "{error}");
        }
    }
}
