//! The statistics report in a real browser (headless Chromium over
//! WebDriver) against a demo server with a year of demo incidents: a
//! dispatcher opens 统计, narrows it to disputes over the demo year, reads
//! the same totals as `GET /api/incidents/stats` (within a point of the
//! seed's 99% resolution rate), drills down from the county into a town, exports the
//! report to Excel and opens the workbook with calamine, and the report's
//! address reopens it after a reload.
//!
//! Screenshots in `artifacts/browser/`: `stats.png`, `stats-town.png`, and
//! `stats-failure.png` when a step fails.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use calamine::{Data, Reader, Xlsx};
use serde_json::{Value, json};

use support::server::{DemoServer, spawn_demo_server_with_incidents};
use support::webdriver::{Browser, run_in_browser};

const READY_TIMEOUT: Duration = Duration::from_secs(90);
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);
/// Demo incidents: enough for every town to have disputes, few enough to
/// load in seconds.
const INCIDENTS: usize = 3_000;
/// The demo year ends here (its incidents are reported in the year before).
const END: &str = "2026-11-01T00:00:00+08:00";
const FROM_DAY: &str = "2025-11-01";
const TO_DAY: &str = "2026-10-31";

#[test]
fn a_dispatcher_reads_exports_and_drills_into_the_statistics() {
    let end: jiff::Timestamp = END.parse().expect("a time");
    let server = spawn_demo_server_with_incidents(INCIDENTS, end);
    run_in_browser("stats-failure.png", |browser, artifacts| {
        drive(browser, &server, artifacts)
    });
}

/// The report's numbers once it has drawn: cards and table rows.
const REPORT_SCRIPT: &str = "
    const view = document.querySelector('[data-test=stats-view]');
    if (!view || view.dataset.ready !== '1') {
      return view && view.dataset.ready === 'error'
        ? {error: document.querySelector('[data-test=stats-status]').textContent} : null;
    }
    const card = (k) => document.querySelector(`[data-test=stats-total-${k}] .stats-card-value`).textContent;
    const rows = [...document.querySelectorAll('[data-test=stats-table] tbody tr')].map((tr) => ({
      grid: tr.dataset.gridId, cells: [...tr.children].map((c) => c.textContent) }));
    return {reported: card('reported'), resolved: card('resolved'), rate: card('rate'),
            open: card('open'), overdue: card('overdue'), rows, hash: location.hash,
            trail: document.querySelector('[data-test=stats-trail]').textContent};";

/// `1,234` → 1234.
fn count(text: &Value) -> u64 {
    text.as_str()
        .unwrap_or_default()
        .replace(',', "")
        .parse()
        .unwrap_or(u64::MAX)
}

fn rate_text(rate: &Value) -> String {
    rate.as_f64()
        .map_or("—".into(), |r| format!("{:.1}%", r * 100.0))
}

fn wait_report(browser: &Browser, what: &str) -> Result<Value, String> {
    let report = browser.wait_for(what, ANSWER_TIMEOUT, REPORT_SCRIPT)?;
    if let Some(error) = report.get("error") {
        return Err(format!("{what}: the report failed: {error}"));
    }
    Ok(report)
}

/// The report's cards and rows say what the API says.
fn same_as_api(report: &Value, api: &Value) -> Result<(), String> {
    let total = &api["total"];
    let shown = (
        count(&report["reported"]),
        count(&report["resolved"]),
        count(&report["open"]),
        count(&report["overdue"]),
        report["rate"].as_str().unwrap_or_default().to_owned(),
    );
    let want = (
        total["reported"].as_u64().unwrap_or(0),
        total["resolved"].as_u64().unwrap_or(0),
        total["open"].as_u64().unwrap_or(0),
        total["overdue"].as_u64().unwrap_or(0),
        rate_text(&total["resolution_rate"]),
    );
    if shown != want {
        return Err(format!("the report shows {shown:?}, the API says {want:?}"));
    }
    let rows = report["rows"].as_array().ok_or("rows")?;
    let grids = api["grids"].as_array().ok_or("grids")?;
    if rows.len() != grids.len() {
        return Err(format!(
            "{} rows shown, {} grids in the API",
            rows.len(),
            grids.len()
        ));
    }
    for (row, grid) in rows.iter().zip(grids) {
        let cells = &row["cells"];
        if row["grid"].as_str() != Some(grid["grid"].as_str().unwrap_or(""))
            || count(&cells[1]) != grid["reported"].as_u64().unwrap_or(0)
            || count(&cells[2]) != grid["resolved"].as_u64().unwrap_or(0)
            || cells[3].as_str() != Some(rate_text(&grid["resolution_rate"]).as_str())
        {
            return Err(format!("row {row} differs from the API's {grid}"));
        }
    }
    Ok(())
}

fn drive(browser: &Browser, server: &DemoServer, artifacts: &Path) -> Result<(), String> {
    server.open_map_as(browser, "dispatcher")?;
    browser.wait_for(
        "the map page with its 统计 tab",
        READY_TIMEOUT,
        "return document.querySelector('[data-test=tab-stats]') ? true : null",
    )?;

    // 1. Open the report and narrow it to disputes over the demo year.
    browser.click("[data-test=tab-stats]")?;
    browser.click("[data-test=stats-open]")?;
    wait_report(browser, "the report for the whole county")?;
    browser.execute(
        "const set = (sel, v) => { const el = document.querySelector(sel); el.value = v;
           el.dispatchEvent(new Event('change')); };
         set('[data-test=stats-category]', 'dispute');
         set('[data-test=stats-from]', arguments[0]);
         set('[data-test=stats-to]', arguments[1]);",
        json!([FROM_DAY, TO_DAY]),
    )?;
    browser.wait_for(
        "the category list to hold disputes",
        ANSWER_TIMEOUT,
        "return document.querySelector('[data-test=stats-category]').value === 'dispute' || null",
    )?;
    browser.click("[data-test=stats-apply]")?;
    let report = browser.wait_for(
        "the report for disputes over the year",
        ANSWER_TIMEOUT,
        &format!(
            "const r = (() => {{ {REPORT_SCRIPT} }})();
             return r && r.hash && r.hash.includes('category=dispute') ? r : null;"
        ),
    )?;
    browser.screenshot(&artifacts.join("stats.png"))?;
    let query = format!(
        "level=1&category=dispute&from={FROM_DAY}T00:00:00%2B08:00&to=2026-11-01T00:00:00%2B08:00"
    );
    let (status, api) = server.api("GET", &format!("/api/incidents/stats?{query}"), None)?;
    if status != 200 {
        return Err(format!("the API answered {status}: {api}"));
    }
    same_as_api(&report, &api)?;
    let disputes = api["total"]["reported"].as_u64().unwrap_or(0);
    let rate = api["total"]["resolution_rate"].as_f64().unwrap_or(0.0);
    // The seed: 99% of disputes resolved. The demo year's last weeks are
    // still being worked on, so the year as a whole is within a point of it.
    if disputes < 100 || (rate - 0.99).abs() > 0.01 {
        return Err(format!(
            "the demo year should have disputes resolved within a point of the seed's 99%: \
             {disputes} disputes, {:.2}% resolved",
            rate * 100.0
        ));
    }
    eprintln!(
        "disputes over the demo year: {disputes} reported, {} resolved, {:.2}%",
        api["total"]["resolved"],
        rate * 100.0
    );
    let towns = api["grids"].as_array().map_or(0, Vec::len);
    if towns != 18 {
        return Err(format!(
            "every one of the 18 towns has disputes; {towns} listed"
        ));
    }

    // 2. Export to Excel and open the workbook.
    let downloads = tempfile::tempdir().map_err(|e| e.to_string())?;
    browser.allow_downloads(downloads.path())?;
    browser.click("[data-test=stats-export-xlsx]")?;
    let file = downloads.path().join("incident-stats.xlsx");
    let deadline = Instant::now() + ANSWER_TIMEOUT;
    while !file.exists() {
        if Instant::now() > deadline {
            return Err(format!(
                "no incident-stats.xlsx in {}",
                downloads.path().display()
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut book: Xlsx<_> =
        calamine::open_workbook(&file).map_err(|e: calamine::XlsxError| e.to_string())?;
    let table = book.worksheet_range("按网格").map_err(|e| e.to_string())?;
    let header: Vec<String> = (0..10)
        .map(|c| table.get((0, c)).map(Data::to_string).unwrap_or_default())
        .collect();
    if header[..5] != ["网格编码", "网格名称", "层级", "上报", "办结"] {
        return Err(format!("the workbook's headers are {header:?}"));
    }
    let last = table.height() - 1;
    let total_row: Vec<Data> = (0..10)
        .map(|c| table.get((last, c)).cloned().unwrap_or(Data::Empty))
        .collect();
    let want_total = [
        Data::String("合计".into()),
        Data::Empty,
        Data::Float(1.0),
        Data::Float(disputes as f64),
        Data::Float(api["total"]["resolved"].as_f64().unwrap_or(0.0)),
    ];
    if total_row[..5] != want_total[..] || total_row[8] != Data::Float(rate) {
        return Err(format!(
            "the workbook's total row is {total_row:?}, the API's rate {rate}"
        ));
    }
    if table.height() != towns + 2 {
        return Err(format!(
            "{} rows in the workbook for {towns} towns",
            table.height()
        ));
    }

    // 3. Drill down into the first town: its villages, as the API has them.
    let town = api["grids"][0]["grid"].as_str().ok_or("a town")?.to_owned();
    browser.click(&format!("[data-test=stats-drill][data-grid-id=\"{town}\"]"))?;
    let report = browser.wait_for(
        "the report for the town's villages",
        ANSWER_TIMEOUT,
        &format!(
            "const r = (() => {{ {REPORT_SCRIPT} }})();
             return r && r.hash.includes('grid={town}') && r.hash.includes('level=2') ? r : null;"
        ),
    )?;
    browser.screenshot(&artifacts.join("stats-town.png"))?;
    let (_, api) = server.api(
        "GET",
        &format!(
            "/api/incidents/stats?level=2&grid={town}&category=dispute&from={FROM_DAY}T00:00:00%2B08:00&to=2026-11-01T00:00:00%2B08:00"
        ),
        None,
    )?;
    same_as_api(&report, &api)?;
    let town_name = api["grids"][0]["name"].as_str().unwrap_or_default();
    if !report["trail"]
        .as_str()
        .unwrap_or_default()
        .contains("全县")
    {
        return Err(format!(
            "the trail leads back to the county: {}",
            report["trail"]
        ));
    }
    if town_name.is_empty() {
        return Err(format!("the villages are named: {api}"));
    }

    // 4. The address keeps the report: a reload opens it again.
    browser.call("POST", "/refresh", json!({}))?;
    let again = browser.wait_for(
        "the report reopened from the address",
        READY_TIMEOUT,
        &format!(
            "const r = (() => {{ {REPORT_SCRIPT} }})();
             return r && r.hash.includes('grid={town}') ? r : null;"
        ),
    )?;
    same_as_api(&again, &api)?;
    browser.click("[data-test=stats-close]")?;
    browser.wait_for(
        "the report to close",
        ANSWER_TIMEOUT,
        "return document.querySelector('[data-test=stats-view]') ? null : true",
    )?;
    Ok(())
}
