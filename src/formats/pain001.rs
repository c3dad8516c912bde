//! ISO 20022 pain.001.001.09 (customer credit transfer initiation): the file
//! treasury hands to the bank to pay suppliers out.
//!
//! One file holds one payment information block (one debtor account, one
//! currency, one execution date) with a transfer per payout; each transfer's
//! `EndToEndId` is the payout id, which the bank repeats on the statement
//! debit so the payout is confirmed by matching. Every file written is checked
//! against the ISO schema (`schemas/pain.001.001.09.xsd`, element order,
//! cardinality and value facets) before it is returned: a file the bank would
//! refuse is never handed out.

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::xsd::Schema;

/// The namespace of the version written.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";

/// The schema, read once.
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        Schema::parse(include_bytes!("schemas/pain.001.001.09.xsd"))
            .expect("the bundled pain.001.001.09 schema loads")
    })
}

/// A batch of credit transfers from one account.
#[derive(Debug, Clone)]
pub struct CreditTransferBatch {
    /// `GrpHdr/MsgId` and `PmtInfId` (at most 35 characters).
    pub message_id: String,
    pub created_at: DateTime<Utc>,
    pub debtor_name: String,
    pub debtor_iban: String,
    pub debtor_bic: Option<String>,
    pub requested_execution_date: NaiveDate,
    pub currency: String,
    pub transfers: Vec<CreditTransfer>,
}

/// One transfer; `amount` is decimal text in the currency's minor digits.
#[derive(Debug, Clone)]
pub struct CreditTransfer {
    pub end_to_end_id: String,
    pub amount: String,
    pub creditor_name: String,
    pub creditor_iban: String,
    pub creditor_bic: Option<String>,
    pub remittance: String,
}

/// Text cut to the schema's length for a `Max140Text`, on a character boundary.
fn max_140(text: &str) -> String {
    text.chars()
        .take(crate::limits::PAIN001_TEXT_LENGTH_MAX)
        .collect()
}

struct Out {
    writer: Writer<Vec<u8>>,
}

impl Out {
    fn open(&mut self, name: &str) -> Result<(), String> {
        self.writer
            .write_event(Event::Start(BytesStart::new(name)))
            .map_err(|e| e.to_string())
    }

    fn close(&mut self, name: &str) -> Result<(), String> {
        self.writer
            .write_event(Event::End(BytesEnd::new(name)))
            .map_err(|e| e.to_string())
    }

    fn leaf(&mut self, name: &str, text: &str) -> Result<(), String> {
        self.open(name)?;
        self.writer
            .write_event(Event::Text(BytesText::new(text)))
            .map_err(|e| e.to_string())?;
        self.close(name)
    }

    fn amount(&mut self, name: &str, currency: &str, amount: &str) -> Result<(), String> {
        self.writer
            .write_event(Event::Start(
                BytesStart::new(name).with_attributes([("Ccy", currency)]),
            ))
            .map_err(|e| e.to_string())?;
        self.writer
            .write_event(Event::Text(BytesText::new(amount)))
            .map_err(|e| e.to_string())?;
        self.close(name)
    }

    fn nested(&mut self, path: &[&str], text: &str) -> Result<(), String> {
        let (leaf, outer) = path.split_last().ok_or("empty path")?;
        for name in outer {
            self.open(name)?;
        }
        self.leaf(leaf, text)?;
        for name in outer.iter().rev() {
            self.close(name)?;
        }
        Ok(())
    }

    /// `FinInstnId` with the BIC, or `Othr/Id` NOTPROVIDED (the SEPA IBAN-only form).
    fn agent(&mut self, name: &str, bic: Option<&str>) -> Result<(), String> {
        match bic {
            Some(bic) => self.nested(&[name, "FinInstnId", "BICFI"], bic),
            None => self.nested(&[name, "FinInstnId", "Othr", "Id"], "NOTPROVIDED"),
        }
    }
}

/// Sums decimal amount texts exactly.
fn control_sum(transfers: &[CreditTransfer]) -> Result<String, String> {
    let mut sum = rust_decimal::Decimal::ZERO;
    for transfer in transfers {
        sum += transfer
            .amount
            .parse::<rust_decimal::Decimal>()
            .map_err(|_| format!("amount {:?} is not a decimal", transfer.amount))?;
    }
    Ok(sum.to_string())
}

/// Writes the batch and checks the file against the schema.
pub fn write(batch: &CreditTransferBatch) -> Result<Vec<u8>, String> {
    if batch.transfers.is_empty() {
        return Err("a pain.001 batch needs at least one transfer".into());
    }
    let count = batch.transfers.len().to_string();
    let sum = control_sum(&batch.transfers)?;
    let mut out = Out {
        writer: Writer::new_with_indent(Vec::new(), b' ', 2),
    };
    out.writer
        .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
        .map_err(|e| e.to_string())?;
    out.writer
        .write_event(Event::Start(
            BytesStart::new("Document").with_attributes([("xmlns", NAMESPACE)]),
        ))
        .map_err(|e| e.to_string())?;
    out.open("CstmrCdtTrfInitn")?;

    out.open("GrpHdr")?;
    out.leaf("MsgId", &batch.message_id)?;
    out.leaf(
        "CreDtTm",
        &batch.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
    )?;
    out.leaf("NbOfTxs", &count)?;
    out.leaf("CtrlSum", &sum)?;
    out.nested(&["InitgPty", "Nm"], &max_140(&batch.debtor_name))?;
    out.close("GrpHdr")?;

    out.open("PmtInf")?;
    out.leaf("PmtInfId", &batch.message_id)?;
    out.leaf("PmtMtd", "TRF")?;
    // One debit for the whole batch on the statement, matched by `PmtInfId`.
    out.leaf("BtchBookg", "true")?;
    out.leaf("NbOfTxs", &count)?;
    out.leaf("CtrlSum", &sum)?;
    if batch.currency == "EUR" {
        out.nested(&["PmtTpInf", "SvcLvl", "Cd"], "SEPA")?;
    }
    out.nested(
        &["ReqdExctnDt", "Dt"],
        &batch.requested_execution_date.to_string(),
    )?;
    out.nested(&["Dbtr", "Nm"], &max_140(&batch.debtor_name))?;
    out.nested(&["DbtrAcct", "Id", "IBAN"], &batch.debtor_iban)?;
    out.agent("DbtrAgt", batch.debtor_bic.as_deref())?;
    out.leaf("ChrgBr", "SLEV")?;
    for transfer in &batch.transfers {
        out.open("CdtTrfTxInf")?;
        out.open("PmtId")?;
        out.leaf("InstrId", &transfer.end_to_end_id)?;
        out.leaf("EndToEndId", &transfer.end_to_end_id)?;
        out.close("PmtId")?;
        out.open("Amt")?;
        out.amount("InstdAmt", &batch.currency, &transfer.amount)?;
        out.close("Amt")?;
        if let Some(bic) = &transfer.creditor_bic {
            out.nested(&["CdtrAgt", "FinInstnId", "BICFI"], bic)?;
        }
        out.nested(&["Cdtr", "Nm"], &max_140(&transfer.creditor_name))?;
        out.nested(&["CdtrAcct", "Id", "IBAN"], &transfer.creditor_iban)?;
        out.nested(&["RmtInf", "Ustrd"], &max_140(&transfer.remittance))?;
        out.close("CdtTrfTxInf")?;
    }
    out.close("PmtInf")?;
    out.close("CstmrCdtTrfInitn")?;
    out.close("Document")?;
    let mut bytes = out.writer.into_inner();
    bytes.push(b'\n');
    schema()
        .validate(&bytes)
        .map_err(|e| format!("the pain.001 file breaks the schema: {e}"))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> CreditTransferBatch {
        CreditTransferBatch {
            message_id: "pb-42".into(),
            created_at: DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            debtor_name: "scfledger treasury".into(),
            debtor_iban: "DE89370400440532013000".into(),
            debtor_bic: Some("COBADEFFXXX".into()),
            requested_execution_date: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            currency: "EUR".into(),
            transfers: vec![
                CreditTransfer {
                    end_to_end_id: "po-7-0".into(),
                    amount: "8820.00".into(),
                    creditor_name: "Acme Textiles & Sons".into(),
                    creditor_iban: "FR1420041010050500013M02606".into(),
                    creditor_bic: None,
                    remittance: "advance on inv-3".into(),
                },
                CreditTransfer {
                    end_to_end_id: "po-9-0".into(),
                    amount: "1000.50".into(),
                    creditor_name: "Nordic Parts".into(),
                    creditor_iban: "NL91ABNA0417164300".into(),
                    creditor_bic: Some("ABNANL2A".into()),
                    remittance: "settlement of inv-1".into(),
                },
            ],
        }
    }

    #[test]
    fn a_batch_is_written_in_schema_order_with_exact_sums() {
        let bytes = write(&batch()).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains("<NbOfTxs>2</NbOfTxs>\n      <CtrlSum>9820.50</CtrlSum>"));
        assert!(text.contains("<InstdAmt Ccy=\"EUR\">8820.00</InstdAmt>"));
        assert!(text.contains("<Nm>Acme Textiles &amp; Sons</Nm>"));
        assert!(text.contains("<EndToEndId>po-9-0</EndToEndId>"));
        assert_eq!(text.matches("<CdtTrfTxInf>").count(), 2);
    }

    #[test]
    fn a_file_the_bank_would_refuse_is_not_written() {
        let mut bad = batch();
        bad.transfers[0].creditor_iban = "not an iban".into();
        let error = write(&bad).unwrap_err();
        assert!(
            error.contains("CdtrAcct/Id/IBAN: \"not an iban\" does not match"),
            "{error}"
        );
        let mut long = batch();
        long.message_id = "x".repeat(36);
        assert!(write(&long).unwrap_err().contains("GrpHdr/MsgId"));
        let mut empty = batch();
        empty.transfers.clear();
        assert_eq!(
            write(&empty).unwrap_err(),
            "a pain.001 batch needs at least one transfer"
        );
    }
}
