//! Registering parties and programmes, and funders placing money.

use crate::domain::ErrorCode;
use crate::services::events::Event;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::bodies::{FunderDeposited, PartyRegistered, ProgramCreated, SupplierEnrolled};
use super::common::{
    accounts, check_unmatched_line, invalid, load_party, load_program, positive_amount, reject,
    PostingsBuilder,
};
use super::invoices::Actor;
use crate::db::financing as fin_db;
use crate::domain::terms::{parse_rate, DayCount, TermsError};
use crate::domain::{Currency, PartyId, Role};
use crate::ledger::{BatchContext, Command, EntryDraft, LedgerError};

/// The key id of a party's Ed25519 request key: first 8 bytes of SHA-256(key), hex.
pub fn request_key_id(public_key: &[u8; 32]) -> String {
    hex::encode(&Sha256::digest(public_key)[..8])
}

/// `party.registered`: a supplier, retailer, funder or operator joins.
pub struct RegisterParty {
    body: PartyRegistered,
    actor: PartyId,
}

impl RegisterParty {
    pub fn parse(
        actor: &PartyId,
        party_id: &str,
        role: &str,
        name: &str,
        tax_id: Option<&str>,
        public_key_base64: Option<&str>,
    ) -> Result<Self, LedgerError> {
        let party_id = PartyId::parse(party_id).map_err(|e| invalid("party_id", e))?;
        let role: Role = role.parse().map_err(|e: String| invalid("role", e))?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > crate::limits::PARTY_NAME_LENGTH_MAX {
            return Err(invalid("name", "name must be 1-200 characters"));
        }
        let tax_id = tax_id.map(str::trim).filter(|t| !t.is_empty());
        if role == Role::Supplier && tax_id.is_none() {
            return Err(invalid(
                "tax_id",
                "a supplier needs its tax id (it identifies its invoices)",
            ));
        }
        if tax_id.is_some_and(|t| t.len() > crate::limits::TAX_ID_LENGTH_MAX) {
            return Err(invalid("tax_id", "tax_id must be at most 64 characters"));
        }
        let (public_key, key_id) = match public_key_base64 {
            None => (None, None),
            Some(text) => {
                let bytes: [u8; 32] = BASE64
                    .decode(text)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| {
                        invalid(
                            "public_key",
                            "public_key must be a base64 Ed25519 public key (32 bytes)",
                        )
                    })?;
                ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| {
                    invalid("public_key", "public_key is not a valid Ed25519 point")
                })?;
                (Some(text.to_string()), Some(request_key_id(&bytes)))
            }
        };
        Ok(RegisterParty {
            body: PartyRegistered {
                party_id: party_id.to_string(),
                role: role.as_str().into(),
                name: name.into(),
                tax_id: tax_id.map(str::to_string),
                public_key,
                key_id,
            },
            actor: actor.clone(),
        })
    }
}

impl Command for RegisterParty {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        if fin_db::party(context.connection()?, &self.body.party_id)?.is_some() {
            return Err(reject(
                ErrorCode::PartyExists,
                Some("party_id"),
                format!("party {} already exists", self.body.party_id),
            ));
        }
        Ok(Event::PartyRegistered(self.body.clone()).draft(self.actor.to_string(), vec![]))
    }
}

/// Text fields of a programme, as a form or the API sends them.
#[derive(Debug, Clone, Default)]
pub struct ProgramFields<'a> {
    pub program_id: &'a str,
    pub retailer_id: &'a str,
    pub funder_id: &'a str,
    pub currency: &'a str,
    pub advance_rate: &'a str,
    pub discount_rate: &'a str,
    pub day_count: &'a str,
    pub tenor_min_days: i64,
    pub tenor_max_days: i64,
    pub grace_days: i64,
    pub late_rate: &'a str,
    pub default_days: i64,
    pub recourse: bool,
    pub program_limit: &'a str,
    pub retailer_limit: &'a str,
    pub supplier_limit_fixed: Option<&'a str>,
    pub supplier_limit_multiple: Option<&'a str>,
}

fn terms_error(error: TermsError) -> LedgerError {
    let field = match &error {
        TermsError::Rate { field, .. } | TermsError::OutOfRange { field, .. } => field,
        TermsError::DayCount(_) => "day_count",
        TermsError::SupplierLimitRule => "supplier_limit_fixed",
        TermsError::Tenor => "tenor_min_days",
    };
    invalid(field, error.to_string())
}

/// `program.created`: one retailer, one funder, one currency and their terms.
pub struct CreateProgram {
    body: ProgramCreated,
    actor: PartyId,
}

impl CreateProgram {
    pub fn parse(actor: &PartyId, fields: &ProgramFields<'_>) -> Result<Self, LedgerError> {
        let program_id = PartyId::parse(fields.program_id)
            .map_err(|e| invalid("program_id", e.replace("party id", "programme id")))?;
        let currency =
            Currency::parse(fields.currency).map_err(|e| invalid("currency", e.to_string()))?;
        let one = Decimal::ONE;
        let max_annual = Decimal::from(5);
        let rate = |field, text| parse_rate(field, text, Decimal::ZERO, one).map_err(terms_error);
        let advance_rate = rate("advance_rate", fields.advance_rate)?;
        if advance_rate.is_zero() {
            return Err(invalid("advance_rate", "advance_rate must be above 0"));
        }
        let discount_rate = parse_rate(
            "discount_rate",
            fields.discount_rate,
            Decimal::ZERO,
            max_annual,
        )
        .map_err(terms_error)?;
        let late_rate = parse_rate("late_rate", fields.late_rate, Decimal::ZERO, max_annual)
            .map_err(terms_error)?;
        let day_count: DayCount = fields.day_count.parse().map_err(terms_error)?;
        let days = |field: &str, value: i64, max: i64| {
            if (0..=max).contains(&value) {
                Ok(value)
            } else {
                Err(invalid(
                    field,
                    format!("{field} must be 0-{max} days, got {value}"),
                ))
            }
        };
        let tenor_min_days = days("tenor_min_days", fields.tenor_min_days, 3_650)?;
        let tenor_max_days = days("tenor_max_days", fields.tenor_max_days, 3_650)?;
        if tenor_min_days > tenor_max_days {
            return Err(terms_error(TermsError::Tenor));
        }
        let grace_days = days("grace_days", fields.grace_days, 365)?;
        let default_days = days("default_days", fields.default_days, 3_650)?;
        let program_limit = positive_amount("program_limit", currency, fields.program_limit)?;
        let retailer_limit = positive_amount("retailer_limit", currency, fields.retailer_limit)?;
        let (fixed, multiple) = match (fields.supplier_limit_fixed, fields.supplier_limit_multiple)
        {
            (Some(cap), None) => (
                Some(currency.format_amount(positive_amount(
                    "supplier_limit_fixed",
                    currency,
                    cap,
                )?)),
                None,
            ),
            (None, Some(multiple)) => {
                let k = parse_rate(
                    "supplier_limit_multiple",
                    multiple,
                    Decimal::ZERO,
                    Decimal::from(100),
                )
                .map_err(terms_error)?;
                (None, Some(k.to_string()))
            }
            _ => return Err(terms_error(TermsError::SupplierLimitRule)),
        };
        Ok(CreateProgram {
            body: ProgramCreated {
                program_id: program_id.to_string(),
                retailer_id: fields.retailer_id.to_string(),
                funder_id: fields.funder_id.to_string(),
                currency: currency.code().into(),
                advance_rate: advance_rate.to_string(),
                discount_rate: discount_rate.to_string(),
                day_count: day_count.as_str().into(),
                tenor_min_days,
                tenor_max_days,
                grace_days,
                late_rate: late_rate.to_string(),
                default_days,
                recourse: fields.recourse,
                program_limit: currency.format_amount(program_limit),
                retailer_limit: currency.format_amount(retailer_limit),
                supplier_limit_fixed: fixed,
                supplier_limit_multiple: multiple,
            },
            actor: actor.clone(),
        })
    }
}

impl Command for CreateProgram {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let connection = context.connection()?;
        if fin_db::program(connection, &self.body.program_id)?.is_some() {
            return Err(reject(
                ErrorCode::ProgramExists,
                Some("program_id"),
                format!("programme {} already exists", self.body.program_id),
            ));
        }
        load_party(
            connection,
            &self.body.retailer_id,
            Role::Retailer,
            "retailer_id",
        )?;
        load_party(connection, &self.body.funder_id, Role::Funder, "funder_id")?;
        Ok(Event::ProgramCreated(self.body.clone()).draft(self.actor.to_string(), vec![]))
    }
}

/// `program.supplier_enrolled`: the operator, or the programme's retailer,
/// enrols a supplier; only members register invoices in a programme.
pub struct EnrolSupplier {
    actor: Actor,
    program_id: String,
    supplier_id: String,
}

impl EnrolSupplier {
    pub fn parse(actor: Actor, program_id: &str, supplier_id: &str) -> Result<Self, LedgerError> {
        let supplier_id = PartyId::parse(supplier_id).map_err(|e| invalid("supplier_id", e))?;
        Ok(EnrolSupplier {
            actor,
            program_id: program_id.into(),
            supplier_id: supplier_id.to_string(),
        })
    }
}

impl Command for EnrolSupplier {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let connection = context.connection()?;
        let program = load_program(connection, &self.program_id)?;
        let may_enrol = self.actor.role == Role::Operator
            || (self.actor.role == Role::Retailer
                && self.actor.party.as_str() == program.retailer_id);
        if !may_enrol {
            // A party outside the programme learns nothing of it.
            return Err(reject(
                ErrorCode::NotFound,
                Some("program_id"),
                format!("no programme {:?}", self.program_id),
            ));
        }
        load_party(connection, &self.supplier_id, Role::Supplier, "supplier_id")?;
        if fin_db::is_member(connection, &self.program_id, &self.supplier_id)? {
            return Err(reject(
                ErrorCode::AlreadyEnrolled,
                Some("supplier_id"),
                format!(
                    "{} is already enrolled in programme {}",
                    self.supplier_id, self.program_id
                ),
            ));
        }
        let body = SupplierEnrolled {
            program_id: program.program_id,
            supplier_id: self.supplier_id.clone(),
            retailer_id: program.retailer_id,
        };
        Ok(Event::SupplierEnrolled(body).draft(self.actor.party.to_string(), vec![]))
    }
}

/// `funder.deposited`: a funder's money arrives in the platform's bank account.
pub struct FunderDeposit {
    body: FunderDeposited,
    currency: Currency,
    amount_minor: i64,
    actor: PartyId,
}

impl FunderDeposit {
    pub fn parse(
        actor: &PartyId,
        funder_id: &str,
        currency: &str,
        amount: &str,
    ) -> Result<Self, LedgerError> {
        let currency = Currency::parse(currency).map_err(|e| invalid("currency", e.to_string()))?;
        let amount_minor = positive_amount("amount", currency, amount)?;
        Ok(FunderDeposit {
            body: FunderDeposited {
                funder_id: funder_id.into(),
                currency: currency.code().into(),
                amount: currency.format_amount(amount_minor),
                bank_line: None,
            },
            currency,
            amount_minor,
            actor: actor.clone(),
        })
    }

    /// The money is an imported bank line's, waiting in `unapplied-cash`.
    pub fn from_bank_line(mut self, line: super::bodies::MatchedLine) -> Self {
        self.body.bank_line = Some(line);
        self
    }
}

impl Command for FunderDeposit {
    fn execute(&self, context: &mut BatchContext<'_>) -> Result<EntryDraft, LedgerError> {
        let connection = context.connection()?;
        load_party(connection, &self.body.funder_id, Role::Funder, "funder_id")?;
        let from = match &self.body.bank_line {
            None => accounts::BANK,
            Some(matched) => {
                check_unmatched_line(
                    connection,
                    &matched.line_id,
                    self.currency,
                    self.amount_minor,
                )?;
                accounts::UNAPPLIED_CASH
            }
        };
        let mut postings = PostingsBuilder::new(self.currency);
        postings.debit(from, self.amount_minor).credit(
            &accounts::funder_cash(&self.body.funder_id),
            self.amount_minor,
        );
        Ok(Event::FunderDeposited(self.body.clone())
            .draft(self.actor.to_string(), postings.finish()))
    }
}
