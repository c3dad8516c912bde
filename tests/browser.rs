//! The supplier's and the retailer's pages in a real headless Chromium, driven
//! over WebDriver: sign in, register an invoice (and see a field error), see it
//! confirmed, take the quote, accept it, see the dashboard change, download the
//! CSV. With SCFLEDGER_SCREENSHOTS=DIR the pages are saved as PNG (docs/user-guide.md).

mod axe;
mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use common::*;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client as Browser, ClientBuilder, Locator};
use scfledger::domain::{PartyId, Role};
use serde_json::json;

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromedriver() -> Option<(Driver, u16)> {
    let binary = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(binary) = binary else {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but chromedriver is not installed: .ci/run installs chromium-driver"
        );
        eprintln!("skipping the browser test: install chromium and chromium-driver to run it");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some((Driver(child), port))
}

async fn browser(port: u16) -> Browser {
    // Two TLS crypto providers are compiled in (reqwest's and fantoccini's); pick one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1200,1000"]
        }),
    );
    ClientBuilder::rustls()
        .expect("a TLS backend")
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("chromedriver answers")
}

async fn screenshot(browser: &Browser, name: &str) {
    if let Ok(folder) = std::env::var("SCFLEDGER_SCREENSHOTS") {
        let png = browser.screenshot().await.unwrap();
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(
            std::path::Path::new(&folder).join(format!("{name}.png")),
            png,
        )
        .unwrap();
    }
}

/// The text of the first element matching `css`, waiting for it to appear.
async fn text(browser: &Browser, css: &str) -> String {
    browser
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// Waits until the text of `css` contains `needle` (a form posted and the page reloaded).
async fn wait_text(browser: &Browser, css: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(element) = browser.find(Locator::Css(css)).await {
            if let Ok(found) = element.text().await {
                if found.contains(needle) {
                    return found;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "{css} never contained {needle:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the browser is on a path that starts with `prefix`.
async fn wait_path(browser: &Browser, prefix: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let path = browser.current_url().await.unwrap().path().to_string();
        if path.starts_with(prefix) {
            return path;
        }
        assert!(
            Instant::now() < deadline,
            "never reached {prefix}, still on {path}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn fill(browser: &Browser, css: &str, value: &str) {
    let field = browser.find(Locator::Css(css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

/// Date inputs take keys in the browser's locale; set the ISO value directly.
async fn set_date(browser: &Browser, id: &str, value: &str) {
    browser
        .execute(
            &format!("document.getElementById('{id}').value = '{value}';"),
            vec![],
        )
        .await
        .unwrap();
}

async fn sign_in(browser: &Browser, base: &str, email: &str, password: &str) {
    browser.goto(&format!("{base}/")).await.unwrap();
    fill(browser, "#email", email).await;
    fill(browser, "#password", password).await;
    browser
        .find(Locator::Css("main button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn sign_out(browser: &Browser) {
    browser
        .find(Locator::Css("header .sign-out button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    text(browser, "#email").await;
}

/// Presses one key, as a person at the keyboard would.
async fn press(browser: &Browser, key: Key) {
    let value = char::from(key);
    let actions = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value })
        .then(KeyAction::Up { value });
    browser.perform_actions(actions).await.unwrap();
}

/// Types text key by key into whatever has the focus.
async fn type_keys(browser: &Browser, text: &str) {
    let mut actions = KeyActions::new("keyboard".into());
    for value in text.chars() {
        actions = actions
            .then(KeyAction::Down { value })
            .then(KeyAction::Up { value });
    }
    browser.perform_actions(actions).await.unwrap();
}

/// Presses Tab until `css` has the focus: it is reached by keyboard, in the
/// page's order, and shows a focus ring.
async fn tab_to(browser: &Browser, css: &str) {
    for _ in 0..120 {
        press(browser, Key::Tab).await;
        let focused = browser
            .execute(
                "const e = document.activeElement; const s = getComputedStyle(e);\
                 return [e.matches(arguments[0]), s.outlineStyle, s.outlineWidth, s.boxShadow];",
                vec![json!(css)],
            )
            .await
            .unwrap();
        if focused[0] == json!(true) {
            let ring = (focused[1] != json!("none") && focused[2] != json!("0px"))
                || focused[3] != json!("none");
            assert!(
                ring,
                "{css} has the focus but shows no focus ring: {focused}"
            );
            return;
        }
    }
    panic!("{css} cannot be reached with the Tab key");
}

/// At phone width (390 px) each page fits without sideways scrolling and
/// every action button is on the screen; the window is set back after.
async fn fits_a_phone(browser: &Browser, base: &str, paths: &[&str]) {
    browser.set_window_size(390, 844).await.unwrap();
    for path in paths {
        browser.goto(&format!("{base}{path}")).await.unwrap();
        text(browser, "main h1").await;
        axe::check(browser, path).await;
        let found = browser
            .execute(
                "const width = window.innerWidth;\
                 const off = [...document.querySelectorAll('main button, main a.button')]\
                   .filter(b => { const r = b.getBoundingClientRect(); return r.width === 0 || r.left < 0 || r.right > width; })\
                   .map(b => b.textContent.trim());\
                 return [document.documentElement.scrollWidth - width, off];",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            found[0].as_i64().unwrap() <= 0,
            "{path} is wider than the phone by {}px",
            found[0]
        );
        assert_eq!(found[1], json!([]), "{path}: buttons off the screen");
        if std::env::var("SCFLEDGER_SCREENSHOTS").is_ok() {
            browser
                .execute(
                    "document.querySelector('main table')?.scrollIntoView();",
                    vec![],
                )
                .await
                .unwrap();
            let name: String = path
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            screenshot(browser, &format!("phone{}", name.trim_end_matches('-'))).await;
        }
    }
    browser.set_window_size(1200, 1000).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supplier_gets_paid_through_the_web_pages() {
    let Some((_driver, driver_port)) = chromedriver() else {
        return;
    };
    let db = TestDb::new("sqlite");
    let (base, token) = spawn_app(
        &db,
        scfledger::services::clock::Clock::fixed_at(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()),
    );
    let setup = base.clone();
    tokio::task::spawn_blocking(move || {
        let operator = Client::new(&setup, &token);
        for (id, role, name, tax) in [("ret-hansa", "retailer", "Hansa Retail AG", None), ("fund-nord", "funder", "Nord Capital", None),
                                      ("sup-acme", "supplier", "Acme Tools GmbH", Some("DE129273398"))] {
            assert_eq!(operator.post("/api/v1/parties", &json!({"party_id": id, "role": role, "name": name, "tax_id": tax})).0, 201);
        }
        let program = json!({"program_id": "prog-hansa", "retailer_id": "ret-hansa", "funder_id": "fund-nord", "currency": "EUR",
            "advance_rate": "0.90", "discount_rate": "0.12", "day_count": "ACT/360", "tenor_min_days": 10, "tenor_max_days": 120,
            "grace_days": 5, "late_rate": "0.18", "default_days": 30, "recourse": true, "program_limit": "1000000.00",
            "retailer_limit": "1000000.00", "supplier_limit_fixed": "250000.00"});
        assert_eq!(operator.post("/api/v1/programs", &program).0, 201);
        enrol(&operator, "prog-hansa", "sup-acme");
        assert_eq!(operator.post("/api/v1/funders/fund-nord/deposits", &json!({"currency": "EUR", "amount": "100000.00"})).0, 201);
        // The account payout batches are paid from.
        assert_eq!(operator.post("/api/v1/parties/op-treasury/bank-account", &json!({"iban": "DE89 3704 0044 0532 0130 00"})).0, 201);
    })
    .await
    .unwrap();
    let mut connection = db.connect();
    for (email, password, party, role) in [
        (
            "anna@acme.example",
            "correct horse battery",
            "sup-acme",
            Role::Supplier,
        ),
        (
            "ap@hansa.example",
            "another long passphrase",
            "ret-hansa",
            Role::Retailer,
        ),
        (
            "treasury@platform.example",
            "treasury passphrase",
            "op-treasury",
            Role::Operator,
        ),
        (
            "payments@platform.example",
            "second treasury passphrase",
            "op-treasury",
            Role::Operator,
        ),
    ] {
        scfledger::services::users::create(
            &mut connection,
            email,
            password,
            &PartyId::parse(party).unwrap(),
            role,
        )
        .unwrap();
    }

    let browser = browser(driver_port).await;
    // Signed out: sent to sign in, never shown data.
    browser
        .goto(&format!("{base}/supplier/invoices"))
        .await
        .unwrap();
    assert_eq!(browser.current_url().await.unwrap().path(), "/");
    screenshot(&browser, "01-sign-in").await;
    fits_a_phone(&browser, &base, &["/"]).await;
    sign_in(&browser, &base, "anna@acme.example", "wrong password!").await;
    assert_eq!(
        text(&browser, ".error").await,
        "The e-mail or the password is not right."
    );
    sign_in(
        &browser,
        &base,
        "anna@acme.example",
        "correct horse battery",
    )
    .await;
    wait_path(&browser, "/supplier/").await;

    // Register an invoice: first with too many decimals, then right.
    browser
        .goto(&format!("{base}/supplier/invoices"))
        .await
        .unwrap();
    fill(&browser, "#invoice_number", "INV-2026-0001").await;
    set_date(&browser, "issue_date", "2026-01-01").await;
    set_date(&browser, "due_date", "2026-03-02").await;
    fill(&browser, "#amount", "10000.001").await;
    browser
        .find(Locator::Css("form[action='/supplier/invoices'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(
        text(&browser, ".field-error").await,
        "amount \"10000.001\" must have exactly 2 decimals for EUR"
    );
    let kept = browser
        .find(Locator::Css("#invoice_number"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        kept.as_deref(),
        Some("INV-2026-0001"),
        "the values are kept"
    );
    screenshot(&browser, "02-invoice-form-error").await;
    fill(&browser, "#amount", "10000.00").await;
    browser
        .find(Locator::Css("form[action='/supplier/invoices'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(
        text(&browser, ".notice").await,
        "Invoice INV-2026-0001 is registered: 10,000.00 EUR, due 2 Mar 2026. Your buyer confirms it next; then you can get paid now."
    );
    assert!(text(&browser, "header").await.contains("Acme Tools GmbH"));
    assert!(text(&browser, "#program_id")
        .await
        .contains("Hansa Retail AG, EUR"));
    let row = text(&browser, "tr[data-invoice]").await;
    assert!(
        row.contains("INV-2026-0001")
            && row.contains("10,000.00 EUR")
            && row.contains("registered"),
        "{row}"
    );
    screenshot(&browser, "03-invoices").await;
    sign_out(&browser).await;

    // The retailer confirms it.
    sign_in(
        &browser,
        &base,
        "ap@hansa.example",
        "another long passphrase",
    )
    .await;
    wait_path(&browser, "/retailer/").await;
    text(&browser, "tr[data-invoice]").await;
    screenshot(&browser, "04-retailer-payables").await;
    // Confirm and Dispute stay on the screen of a phone.
    fits_a_phone(&browser, &base, &["/retailer/"]).await;
    browser
        .find(Locator::Css("form[action$='/confirm'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&browser, "tr[data-invoice]", "confirmed").await;
    let notice = text(&browser, ".notice").await;
    assert!(
        notice.starts_with("Invoice INV-2026-0001 from Acme Tools GmbH is confirmed. Pay 10,000.00 EUR by 2 Mar 2026, quoting RF"),
        "{notice}"
    );
    assert!(text(&browser, "tr[data-invoice]")
        .await
        .contains("Acme Tools GmbH"));
    sign_out(&browser).await;

    // The supplier takes the quote and accepts it.
    sign_in(
        &browser,
        &base,
        "anna@acme.example",
        "correct horse battery",
    )
    .await;
    wait_path(&browser, "/supplier/").await;
    assert_eq!(text(&browser, "[data-testid=used]").await, "0.00 EUR");
    browser
        .goto(&format!("{base}/supplier/financing"))
        .await
        .unwrap();
    browser
        .find(Locator::Css("a.button[href^='/supplier/financing/']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(
        text(&browser, "[data-testid=principal]").await,
        "9,000.00 EUR"
    );
    assert_eq!(text(&browser, "[data-testid=fee]").await, "180.00 EUR");
    assert_eq!(text(&browser, "[data-testid=net]").await, "8,820.00 EUR");
    screenshot(&browser, "05-quote").await;
    browser
        .find(Locator::Css("form[action^='/supplier/financing/'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let receipt = wait_path(&browser, "/receipts/").await;
    assert_eq!(
        text(&browser, "main h2").await,
        "You are paid 8,820.00 EUR now for invoice INV-2026-0001"
    );
    let facts = text(&browser, "dl.facts").await;
    for fact in [
        "Invoice amount\n10,000.00 EUR",
        "Advanced (90%)\n9,000.00 EUR",
        "Buyer\nHansa Retail AG",
        "Fee (12% a year for 60 days)\n180.00 EUR",
        "Paid out\n8,820.00 EUR",
        "To account\nno bank account yet",
        "Payout\nwaiting for the next payout batch",
    ] {
        assert!(facts.contains(fact), "{fact:?} is not in {facts:?}");
    }
    assert!(text(&browser, "#next")
        .await
        .contains("the rest, 1,000.00 EUR, is paid to you"));
    screenshot(&browser, "06-receipt").await;

    // The invoice's page tells its life, step by step, each with its receipt.
    browser
        .goto(&format!("{base}/supplier/invoices"))
        .await
        .unwrap();
    browser
        .find(Locator::Css("tr[data-invoice] a[href^='/invoices/']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let invoice_page = wait_path(&browser, "/invoices/").await;
    assert_eq!(text(&browser, "main h1").await, "Invoice INV-2026-0001");
    assert_eq!(text(&browser, "[data-testid=status]").await, "financed");
    let steps = browser
        .find_all(Locator::Css("li[data-step] p.strong"))
        .await
        .unwrap();
    let mut headlines = Vec::new();
    for step in steps {
        headlines.push(step.text().await.unwrap());
    }
    assert_eq!(
        headlines,
        [
            "Invoice INV-2026-0001 registered",
            "Invoice INV-2026-0001 confirmed by the buyer",
            "You are paid 8,820.00 EUR now for invoice INV-2026-0001",
        ]
    );
    screenshot(&browser, "06b-invoice").await;

    // The dashboard changed.
    browser.goto(&format!("{base}/supplier/")).await.unwrap();
    assert_eq!(text(&browser, "[data-testid=used]").await, "9,000.00 EUR");
    assert_eq!(
        text(&browser, "[data-testid=available]").await,
        "241,000.00 EUR"
    );
    screenshot(&browser, "07-dashboard").await;

    // The statement and its CSV, fetched with the browser's own session cookie.
    browser
        .goto(&format!("{base}/supplier/statement"))
        .await
        .unwrap();
    screenshot(&browser, "08-statement").await;
    let href = browser
        .find(Locator::Css("a[download]"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let cookie = browser.get_named_cookie("scf_session").await.unwrap();
    assert_eq!(cookie.http_only(), Some(true));
    let url = format!("{base}{href}");
    let session = format!("scf_session={}", cookie.value());
    let csv = tokio::task::spawn_blocking(move || {
        reqwest::blocking::Client::new()
            .get(url)
            .header("Cookie", session)
            .send()
            .unwrap()
            .text()
            .unwrap()
    })
    .await
    .unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "account,date,description,invoice,debit,credit,balance,currency,entry"
    );
    assert_eq!(lines.len(), 2, "{csv}");
    let fields: Vec<&str> = lines[1].split(',').collect();
    assert!(
        NaiveDate::parse_from_str(fields[1], "%Y-%m-%d").is_ok(),
        "an ISO date: {}",
        fields[1]
    );
    assert_eq!(
        [fields[0], fields[2], fields[3], fields[4], fields[5], fields[6], fields[7]],
        [
            "reserve",
            "Invoice financed",
            "INV-2026-0001",
            "",
            "1000.00",
            "1000.00",
            "EUR"
        ]
    );
    assert!(
        fields[8].parse::<u64>().is_ok(),
        "the entry's seq: {}",
        fields[8]
    );
    // On the page: the same line, with the reserve's opening and closing balances.
    assert!(text(&browser, "#reserve tr[data-line]")
        .await
        .contains("Invoice financed INV-2026-0001 1,000.00 EUR 1,000.00 EUR"));
    assert_eq!(
        text(&browser, "[data-testid=reserve-opening]").await,
        "0.00 EUR"
    );
    assert_eq!(
        text(&browser, "[data-testid=reserve-closing]").await,
        "1,000.00 EUR"
    );
    assert_eq!(
        text(&browser, "[data-testid=debt-closing]").await,
        "0.00 EUR"
    );
    // A period after the advance: it is in the opening balance, not in the lines.
    let tomorrow = chrono::Utc::now().date_naive().succ_opt().unwrap();
    browser
        .goto(&format!(
            "{base}/supplier/statement?currency=EUR&from={tomorrow}&to="
        ))
        .await
        .unwrap();
    assert_eq!(
        text(&browser, "[data-testid=reserve-opening]").await,
        "1,000.00 EUR"
    );
    assert_eq!(
        text(&browser, "[data-testid=reserve-closing]").await,
        "1,000.00 EUR"
    );
    assert!(text(&browser, "#reserve")
        .await
        .contains("No movements in this period."));
    browser
        .goto(&format!(
            "{base}/supplier/statement?currency=EUR&from=2026-02-01&to=2026-01-31"
        ))
        .await
        .unwrap();
    assert_eq!(
        text(&browser, ".error").await,
        "The period starts on 1 Feb 2026 but ends before, on 31 Jan 2026."
    );
    // Treasury imports a bank statement through the page; its payment waits in the queue.
    sign_out(&browser).await;
    sign_in(
        &browser,
        &base,
        "treasury@platform.example",
        "treasury passphrase",
    )
    .await;
    wait_path(&browser, "/operator/").await;
    browser
        .goto(&format!("{base}/treasury/lines"))
        .await
        .unwrap();
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/samples/camt/genkgo-camt053.v8.xml")
        .canonicalize()
        .unwrap();
    browser
        .find(Locator::Css("#statement"))
        .await
        .unwrap()
        .send_keys(&sample.to_string_lossy())
        .await
        .unwrap();
    browser
        .find(Locator::Css("form[action='/treasury/import'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(
        text(&browser, ".notice").await,
        "1 line imported (0 already known): 0 matched, 1 waiting for you below, 0 to suspense, 0 skipped."
    );
    assert!(text(&browser, "tr[data-line]").await.contains("8.85 EUR"));
    screenshot(&browser, "10-treasury-lines").await;
    // The dashboard draws its charts; the advance above is outstanding.
    browser.goto(&format!("{base}/treasury/")).await.unwrap();
    let dashboard = browser.source().await.unwrap();
    assert_eq!(
        dashboard.matches("<svg").count(),
        3,
        "exposure twice and ageing; no settlement yet"
    );
    assert!(text(&browser, "#by-supplier + svg")
        .await
        .contains("9,000.00 EUR"));
    assert!(text(&browser, "#ageing + svg")
        .await
        .contains("not yet due"));
    screenshot(&browser, "11-treasury-dashboard").await;
    // The advance's payout waits: the supplier has no bank account yet.
    browser
        .goto(&format!("{base}/treasury/payouts"))
        .await
        .unwrap();
    assert!(text(&browser, "#pending + table")
        .await
        .contains("no bank account yet"));
    // The imported statement's reconciliation: its arithmetic holds, the ledger's bank differs.
    browser
        .goto(&format!("{base}/treasury/reconciliation"))
        .await
        .unwrap();
    assert!(text(&browser, "#reconciled").await.contains("Statement"));
    screenshot(&browser, "13-treasury-reconciliation").await;
    fits_a_phone(
        &browser,
        &base,
        &[
            "/ledger",
            "/treasury/",
            "/treasury/lines",
            "/treasury/payouts",
            "/treasury/reconciliation",
            "/operator/",
        ],
    )
    .await;
    sign_out(&browser).await;
    sign_in(
        &browser,
        &base,
        "anna@acme.example",
        "correct horse battery",
    )
    .await;
    wait_path(&browser, "/supplier/").await;

    // Every page of the supplier's fits a phone, the receipt too.
    fits_a_phone(
        &browser,
        &base,
        &[
            "/supplier/",
            "/supplier/invoices",
            "/supplier/financing",
            "/supplier/advances",
            "/supplier/statement",
            &receipt,
            &invoice_page,
        ],
    )
    .await;
    browser.set_window_size(390, 844).await.unwrap();
    browser.goto(&format!("{base}/supplier/")).await.unwrap();
    text(&browser, "[data-testid=available]").await;
    screenshot(&browser, "09-phone-dashboard").await;
    browser.goto(&format!("{base}{receipt}")).await.unwrap();
    text(&browser, "main h2").await;
    screenshot(&browser, "14-phone-receipt").await;
    browser
        .goto(&format!("{base}/supplier/statement"))
        .await
        .unwrap();
    text(&browser, "main h2").await;
    screenshot(&browser, "15-phone-statement").await;
    browser.set_window_size(1200, 1000).await.unwrap();

    // The supplier's main flow with the keyboard alone: register an invoice
    // (amount with a decimal comma), and once the buyer has confirmed it,
    // take the quote and accept it.
    browser.goto(&format!("{base}/supplier/")).await.unwrap();
    text(&browser, "main h1").await;
    tab_to(&browser, "nav a[href='/supplier/invoices']").await;
    press(&browser, Key::Enter).await;
    wait_path(&browser, "/supplier/invoices").await;
    text(&browser, "#invoice_number").await;
    tab_to(&browser, "#invoice_number").await;
    type_keys(&browser, "INV-2026-0002").await;
    tab_to(&browser, "#issue_date").await;
    type_keys(&browser, "01012026").await;
    tab_to(&browser, "#due_date").await;
    type_keys(&browser, "03152026").await;
    tab_to(&browser, "#amount").await;
    type_keys(&browser, "5.000,00").await;
    press(&browser, Key::Enter).await;
    wait_text(
        &browser,
        ".notice",
        "Invoice INV-2026-0002 is registered: 5,000.00 EUR, due 15 Mar 2026.",
    )
    .await;
    sign_out(&browser).await;
    sign_in(
        &browser,
        &base,
        "ap@hansa.example",
        "another long passphrase",
    )
    .await;
    wait_path(&browser, "/retailer/").await;
    browser
        .find(Locator::Css("form[action$='/confirm'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(
        &browser,
        ".notice",
        "Invoice INV-2026-0002 from Acme Tools GmbH is confirmed.",
    )
    .await;
    sign_out(&browser).await;
    sign_in(
        &browser,
        &base,
        "anna@acme.example",
        "correct horse battery",
    )
    .await;
    wait_path(&browser, "/supplier/").await;
    text(&browser, "main h1").await;
    tab_to(&browser, "nav a[href='/supplier/financing']").await;
    press(&browser, Key::Enter).await;
    wait_path(&browser, "/supplier/financing").await;
    text(&browser, "main h1").await;
    tab_to(&browser, "a.button[href^='/supplier/financing/']").await;
    press(&browser, Key::Enter).await;
    assert_eq!(text(&browser, "[data-testid=net]").await, "4,390.50 EUR");
    // The quote, with its Accept button, fits a phone too.
    let quote = browser.current_url().await.unwrap().path().to_string();
    fits_a_phone(&browser, &base, &[&quote]).await;
    browser.goto(&format!("{base}{quote}")).await.unwrap();
    text(&browser, "main h1").await;
    tab_to(&browser, "form[action^='/supplier/financing/'] button").await;
    press(&browser, Key::Enter).await;
    wait_path(&browser, "/receipts/").await;
    assert_eq!(
        text(&browser, "main h2").await,
        "You are paid 4,390.50 EUR now for invoice INV-2026-0002"
    );

    // Anna gives her bank account; treasury checks it, then one treasury user
    // proposes the payout batch and a second one approves it.
    browser
        .goto(&format!("{base}/supplier/bank-account"))
        .await
        .unwrap();
    fill(&browser, "#iban", "DE44 5001 0517 5407 3249 31").await;
    browser
        .find(Locator::Css("form[action='/supplier/bank-account'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(
        &browser,
        "[data-testid=waiting]",
        "DE44 5001 0517 5407 3249 31",
    )
    .await;
    screenshot(&browser, "16-bank-account").await;
    fits_a_phone(&browser, &base, &["/supplier/bank-account"]).await;
    sign_out(&browser).await;
    sign_in(
        &browser,
        &base,
        "treasury@platform.example",
        "treasury passphrase",
    )
    .await;
    wait_path(&browser, "/operator/").await;
    assert!(text(&browser, "#bank-requests + p + table")
        .await
        .contains("Acme Tools GmbH"));
    browser
        .find(Locator::Css(
            "form[action='/operator/bank-accounts/sup-acme/approval'] button",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(
        &browser,
        ".notice",
        "Acme Tools GmbH's new bank account is approved",
    )
    .await;
    browser
        .goto(&format!("{base}/treasury/payouts"))
        .await
        .unwrap();
    browser
        .find(Locator::Css(
            "form[action='/treasury/payouts/preview'] button",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_path(&browser, "/treasury/payouts/preview").await;
    assert_eq!(text(&browser, "#figures").await, "2 payouts, 13,210.50 EUR");
    screenshot(&browser, "17-payout-preview").await;
    let preview = browser.current_url().await.unwrap();
    let preview = format!("{}?{}", preview.path(), preview.query().unwrap_or_default());
    fits_a_phone(&browser, &base, &[&preview]).await;
    browser.goto(&format!("{base}{preview}")).await.unwrap();
    browser
        .find(Locator::Css(
            "form[action='/treasury/payouts/batches'] button",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(
        &browser,
        ".notice",
        "is proposed. Another treasury user must review and approve it",
    )
    .await;
    browser
        .find(Locator::Css("#approval + table a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let batch = wait_path(&browser, "/treasury/payouts/batches/").await;
    wait_text(
        &browser,
        ".notice",
        "You proposed this batch: another treasury user must approve it.",
    )
    .await;
    sign_out(&browser).await;
    sign_in(
        &browser,
        &base,
        "payments@platform.example",
        "second treasury passphrase",
    )
    .await;
    wait_path(&browser, "/operator/").await;
    browser.goto(&format!("{base}{batch}")).await.unwrap();
    screenshot(&browser, "18-payout-approval").await;
    fits_a_phone(&browser, &base, &[&batch]).await;
    browser.goto(&format!("{base}{batch}")).await.unwrap();
    browser
        .find(Locator::Css("form[action$='/approval'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&browser, ".notice", "is approved and instructed").await;
    assert!(text(&browser, "#sent + table")
        .await
        .contains("Acme Tools GmbH"));
    screenshot(&browser, "12-treasury-payouts").await;
    browser.close().await.unwrap();
}
