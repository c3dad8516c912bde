//! `scfledger bench settle`: a camt.053 of 10,000 retailer payments, each
//! paying one financed invoice in full by its RF reference, imported, matched
//! and settled (a `bank.line_imported` and a `payment.received` entry per line,
//! the waterfall and the supplier's payout). The baseline, in the same run, is
//! parsing the same file.

use std::fmt;
use std::time::Instant;

use super::fixture::Fixture;
use super::{joined, median};

pub struct SettleBenchReport {
    pub entries: usize,
    pub bytes: usize,
    pub backends: Vec<(&'static str, Vec<f64>, Vec<f64>)>,
}

impl fmt::Display for SettleBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "settlement of a camt.053 with {} entries ({:.1} MiB), every one matched by RF reference and settled",
            self.entries,
            self.bytes as f64 / 1_048_576.0
        )?;
        writeln!(f)?;
        writeln!(f, "| backend | import + match + settle, s (median) | runs | lines/s | baseline: parse only, s (median) | runs |")?;
        writeln!(f, "|---|---|---|---|---|---|")?;
        for (backend, settle, parse) in &self.backends {
            let seconds = median(settle);
            writeln!(
                f,
                "| {backend} | {seconds:.2} | {} | {:.0} | {:.3} | {} |",
                joined(settle, 2),
                self.entries as f64 / seconds,
                median(parse),
                joined(parse, 3)
            )?;
        }
        Ok(())
    }
}

/// A statement of one credit per invoice, each with its RF reference.
pub fn statement(payments: &[(String, String)], amount: &str, day: &str) -> String {
    let mut xml = String::with_capacity(payments.len() * 420 + 1024);
    xml.push_str(&format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt>\
         <GrpHdr><MsgId>BENCH-{day}</MsgId><CreDtTm>{day}T18:00:00</CreDtTm></GrpHdr><Stmt><Id>BENCH-{day}-1</Id>\
         <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>"
    ));
    for (n, (_, reference)) in payments.iter().enumerate() {
        xml.push_str(&format!(
            "<Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>\
             <BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>B{n}</AcctSvcrRef>\
             <NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>\
             <RmtInf><Strd><CdtrRefInf><Ref>{reference}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>"
        ));
    }
    xml.push_str("</Stmt></BkToCstmrStmt></Document>");
    xml
}

/// One run on a fresh database; returns (import seconds, parse seconds, bytes).
fn run(
    postgres_admin: Option<&str>,
    tag: &str,
    entries: usize,
) -> anyhow::Result<(f64, f64, usize)> {
    let mut fixture = Fixture::new(postgres_admin, tag)?;
    let invoices = fixture.confirmed_invoices(entries, "10000.00")?;
    let ids: Vec<String> = invoices.iter().map(|(id, _)| id.clone()).collect();
    fixture.finance(&ids)?;
    let day = (fixture.today + chrono::Duration::days(60)).to_string();
    let xml = statement(&invoices, "10000.00", &day).into_bytes();
    let parse_started = Instant::now();
    crate::formats::camt::parse(&xml)?;
    let parse_seconds = parse_started.elapsed().as_secs_f64();
    let pool = fixture.pool(4)?;
    let ledger = fixture.ledger.clone();
    let bytes = xml.len();
    let started = Instant::now();
    let report = actix_web::rt::System::new().block_on(async move {
        crate::services::treasury::import(&ledger, &pool, &Fixture::operator(), xml).await
    })?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.matched.len() == entries,
        "{} of {entries} lines matched: {:?}",
        report.matched.len(),
        report.unmatched.first()
    );
    eprintln!("{tag}: {entries} lines settled in {seconds:.2} s (parse {parse_seconds:.3} s)");
    Ok((seconds, parse_seconds, bytes))
}

pub fn settle(
    runs: usize,
    entries: usize,
    postgres_url: Option<&str>,
) -> anyhow::Result<SettleBenchReport> {
    let mut backends = Vec::new();
    let mut size = 0;
    for (backend, admin) in super::backends(postgres_url) {
        let (mut settle, mut parse) = (Vec::new(), Vec::new());
        for n in 0..runs.max(1) {
            let (seconds, parse_seconds, bytes) = run(admin, &format!("set{n}"), entries)?;
            settle.push(seconds);
            parse.push(parse_seconds);
            size = bytes;
        }
        backends.push((backend, settle, parse));
    }
    Ok(SettleBenchReport {
        entries,
        bytes: size,
        backends,
    })
}
