//! An axe-core accessibility check for the page the browser shows: WCAG 2.0 and
//! 2.1, levels A and AA. A critical or serious violation fails the test; minor
//! and moderate ones are printed. SCFLEDGER_AXE_JS names axe-core's axe.min.js
//! (`npm install axe-core`; .ci/run installs it). Without it the check is
//! skipped, except under CI, where it fails.

use std::sync::OnceLock;

use fantoccini::Client;
use serde_json::Value;

/// axe-core's source, read once; `None` when SCFLEDGER_AXE_JS is unset.
static AXE_JS: OnceLock<Option<String>> = OnceLock::new();

fn axe_js() -> Option<&'static str> {
    AXE_JS
        .get_or_init(|| match std::env::var_os("SCFLEDGER_AXE_JS") {
            Some(path) => Some(std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "SCFLEDGER_AXE_JS={} cannot be read: {e}",
                    std::path::Path::new(&path).display()
                )
            })),
            None => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "CI is set but axe-core is missing: SCFLEDGER_AXE_JS is unset \
                     (.ci/run installs axe-core from npm and sets it)"
                );
                eprintln!(
                    "skipping the accessibility check: `npm install axe-core` and set \
                     SCFLEDGER_AXE_JS=node_modules/axe-core/axe.min.js to run it"
                );
                None
            }
        })
        .as_deref()
}

/// Runs axe in the page and hands back a small summary of each violation.
const RUN: &str = "const done = arguments[arguments.length - 1];\
    axe.run(document, {\
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},\
        resultTypes: ['violations']\
    }).then(r => done({violations: r.violations.map(v => ({\
        id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,\
        targets: v.nodes.map(n => [].concat(n.target).flat(Infinity).join(' '))\
    }))}), e => done({error: String(e && e.stack || e)}));";

struct Violation {
    id: String,
    impact: String,
    help: String,
    url: String,
    targets: Vec<String>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "  - {} ({}): {}", self.id, self.impact, self.help)?;
        if !self.url.is_empty() {
            write!(f, " <{}>", self.url)?;
        }
        for target in self.targets.iter().take(3) {
            write!(f, "\n      {target}")?;
        }
        if self.targets.len() > 3 {
            write!(f, "\n      … and {} more", self.targets.len() - 3)?;
        }
        Ok(())
    }
}

fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or("").to_owned()
}

/// Checks the page the browser shows now (`page` names it in the messages).
pub async fn check(browser: &Client, page: &str) {
    let Some(axe) = axe_js() else {
        return;
    };
    let loaded = browser
        .execute(&format!("{axe}\n;return typeof window.axe;"), vec![])
        .await
        .unwrap_or_else(|e| panic!("{page}: injecting axe-core failed: {e}"));
    assert_eq!(
        loaded,
        Value::from("object"),
        "{page}: axe-core did not load"
    );
    let result = browser
        .execute_async(RUN, vec![])
        .await
        .unwrap_or_else(|e| panic!("{page}: axe.run failed: {e}"));
    if let Some(error) = result.get("error") {
        panic!("{page}: axe.run failed: {error}");
    }
    let violations = result["violations"]
        .as_array()
        .unwrap_or_else(|| panic!("{page}: axe.run returned no violations list: {result}"))
        .iter()
        .map(|v| Violation {
            id: text(v, "id"),
            impact: v["impact"].as_str().unwrap_or("unknown").to_owned(),
            help: text(v, "help"),
            url: text(v, "helpUrl"),
            targets: v["targets"]
                .as_array()
                .map(|t| {
                    t.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect::<Vec<String>>()
                })
                .unwrap_or_default(),
        });
    let (failing, other): (Vec<Violation>, Vec<Violation>) =
        violations.partition(|v| v.impact == "critical" || v.impact == "serious");
    if !other.is_empty() {
        let list: Vec<String> = other.iter().map(Violation::to_string).collect();
        eprintln!(
            "{page}: {} minor or moderate accessibility violation(s) (axe-core):\n{}",
            other.len(),
            list.join("\n")
        );
    }
    if !failing.is_empty() {
        let list: Vec<String> = failing.iter().map(Violation::to_string).collect();
        panic!(
            "{page}: {} critical or serious accessibility violation(s) (axe-core, WCAG 2.1 A/AA):\n{}",
            failing.len(),
            list.join("\n")
        );
    }
}
