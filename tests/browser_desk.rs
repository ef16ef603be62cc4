//! The dispatcher's desk in a real browser (headless Chromium over
//! WebDriver) against a demo server with a year of demo incidents:
//!
//! 1. **Statistics.** The dispatcher opens 统计, narrows it to disputes over
//!    the demo year (but its last month, still being worked on), reads the
//!    same totals as `GET /api/incidents/stats` (the seed's 99% resolution
//!    rate), exports the report
//!    to Excel and opens the workbook with calamine, drills down from the
//!    county into a town, and the report's address reopens it after a reload.
//! 2. **The list.** They filter the list to the town with the most overdue
//!    incidents and to the overdue, read the API's count, page to the second
//!    page (the API's second page, each row naming its town and how long it
//!    is overdue), and a reload keeps the page from the address.
//! 3. **A duplicate before sending.** A report about the same thing as one
//!    recorded a minute before lists it while the form is filled in; 并入
//!    links the call to it as a note, and no second incident is recorded.
//!
//! Screenshots in `artifacts/browser/`: `stats.png`, `stats-town.png`,
//! `desk-list.png`, `desk-duplicate.png`, and `desk-failure.png` when a step
//! fails.

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
const INCIDENTS: usize = 6_000;
/// The demo year ends here (its incidents are reported in the year before).
const END: &str = "2026-11-01T00:00:00+08:00";
/// The period looked at: the demo year but its last month, so that every
/// dispute in it has had a month to be settled, as the seed's figure (12,432
/// found, 12,360 resolved, 99%) counts settled years.
const FROM_DAY: &str = "2025-11-01";
const TO_DAY: &str = "2026-09-30";
/// The moment after `TO_DAY` (the API's `to` is exclusive).
const TO_MOMENT: &str = "2026-10-01T00:00:00%2B08:00";

#[test]
fn a_dispatcher_reads_the_statistics_pages_the_list_and_links_a_duplicate() {
    let end: jiff::Timestamp = END.parse().expect("a time");
    let server = spawn_demo_server_with_incidents(INCIDENTS, end);
    run_in_browser("desk-failure.png", |browser, artifacts| {
        statistics(browser, &server, artifacts)?;
        list(browser, &server, artifacts)?;
        duplicate_before_sending(browser, &server, artifacts)
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
            open: card('open'), overdue: card('overdue'), rows, hash: location.search,
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

fn statistics(browser: &Browser, server: &DemoServer, artifacts: &Path) -> Result<(), String> {
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
             return r && r.hash && r.hash.includes('stats_category=dispute') ? r : null;"
        ),
    )?;
    browser.screenshot(&artifacts.join("stats.png"))?;
    let query = format!("level=1&category=dispute&from={FROM_DAY}T00:00:00%2B08:00&to={TO_MOMENT}");
    let (status, api) = server.api("GET", &format!("/api/incidents/stats?{query}"), None)?;
    if status != 200 {
        return Err(format!("the API answered {status}: {api}"));
    }
    same_as_api(&report, &api)?;
    let disputes = api["total"]["reported"].as_u64().unwrap_or(0);
    let rate = api["total"]["resolution_rate"].as_f64().unwrap_or(0.0);
    // The seed: 99% of disputes resolved.
    if disputes < 100 || format!("{:.0}%", rate * 100.0) != "99%" {
        return Err(format!(
            "the demo year's settled disputes should be resolved at the seed's 99%: \
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
             return r && r.hash.includes('stats_grid={town}') && r.hash.includes('stats_level=2') ? r : null;"
        ),
    )?;
    browser.screenshot(&artifacts.join("stats-town.png"))?;
    let (_, api) = server.api(
        "GET",
        &format!(
            "/api/incidents/stats?level=2&grid={town}&category=dispute&from={FROM_DAY}T00:00:00%2B08:00&to={TO_MOMENT}"
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
             return r && r.hash.includes('stats_grid={town}') ? r : null;"
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

/// The list's rows once loaded: ids, places, overdue texts; the count, the
/// page label and the address.
const LIST_SCRIPT: &str = "
    const root = document.querySelector('[data-test=incident-list]')?.parentElement;
    if (!root || root.dataset.loading !== '0') return null;
    const rows = [...document.querySelectorAll('[data-test=incident-item]')];
    return {
      ids: rows.map((li) => Number(li.dataset.incidentId)),
      places: rows.map((li) => li.querySelector('[data-test=incident-place]').textContent),
      late: rows.map((li) => li.querySelector('[data-test=incident-overdue-for]')?.textContent ?? ''),
      count: document.querySelector('[data-test=incident-count]').textContent,
      page: document.querySelector('[data-test=incident-page]').textContent,
      search: location.search,
    };";

/// Wait until the list shows what `ready` (a JS condition on `r`) says.
fn wait_list(browser: &Browser, what: &str, ready: &str) -> Result<Value, String> {
    browser.wait_for(
        what,
        ANSWER_TIMEOUT,
        &format!("const r = (() => {{ {LIST_SCRIPT} }})(); return r && ({ready}) ? r : null;"),
    )
}

fn api_ids(page: &Value) -> Vec<i64> {
    page["incidents"]
        .as_array()
        .map(|list| list.iter().filter_map(|i| i["id"].as_i64()).collect())
        .unwrap_or_default()
}

fn list(browser: &Browser, server: &DemoServer, artifacts: &Path) -> Result<(), String> {
    // The town with the most overdue incidents.
    let (_, stats) = server.api("GET", "/api/incidents/stats?level=1", None)?;
    let town = stats["grids"]
        .as_array()
        .ok_or("grids")?
        .iter()
        .max_by_key(|g| g["overdue"].as_u64().unwrap_or(0))
        .ok_or("a town")?;
    let (town_id, town_name) = (
        town["grid"].as_str().ok_or("an id")?.to_owned(),
        town["name"].as_str().ok_or("a name")?.to_owned(),
    );
    let query = format!("/api/incidents?status=open&grid={town_id}&overdue=true&sort=newest");
    let (_, first) = server.api("GET", &format!("{query}&limit=20"), None)?;
    let total = first["total"].as_u64().unwrap_or(0);
    if total <= 20 {
        return Err(format!(
            "{town_name} has {total} overdue incidents: not two pages"
        ));
    }
    let (_, second) = server.api("GET", &format!("{query}&limit=20&offset=20"), None)?;

    browser.click("[data-test=tab-incidents]")?;
    wait_list(browser, "the list of open incidents", "r.ids.length > 0")?;
    browser.type_into("[data-test=incident-grid-input]", &town_name)?;
    browser.wait_for(
        "the town among the grid choices",
        ANSWER_TIMEOUT,
        &format!(
            "const b = document.querySelector('[data-test=incident-grid-choice][data-grid-id=\"{town_id}\"]');
             if (!b) return null; b.id = 'town-choice'; return true;"
        ),
    )?;
    browser.click("#town-choice")?;
    browser.click("[data-test=incident-overdue]")?;
    let page1 = wait_list(
        browser,
        "the town's overdue incidents",
        &format!("r.search.includes('grid={town_id}') && r.search.includes('overdue=true')"),
    )?;
    if page1["count"].as_str() != Some(format!("共 {} 件", fmt_thousands(total)).as_str()) {
        return Err(format!(
            "the list counts {}, the API {total}",
            page1["count"]
        ));
    }
    let shown: Vec<i64> =
        serde_json::from_value(page1["ids"].clone()).map_err(|e| e.to_string())?;
    if shown != api_ids(&first) {
        return Err(format!(
            "page 1 shows {shown:?}, the API {:?}",
            api_ids(&first)
        ));
    }
    browser.click("[data-test=incident-next]")?;
    let page2 = wait_list(browser, "the second page", "r.search.includes('page=2')")?;
    browser.screenshot(&artifacts.join("desk-list.png"))?;
    let shown: Vec<i64> =
        serde_json::from_value(page2["ids"].clone()).map_err(|e| e.to_string())?;
    if shown != api_ids(&second) {
        return Err(format!(
            "page 2 shows {shown:?}, the API {:?}",
            api_ids(&second)
        ));
    }
    let places = page2["places"].as_array().ok_or("places")?;
    let late = page2["late"].as_array().ok_or("late")?;
    if places
        .iter()
        .any(|p| !p.as_str().unwrap_or("").starts_with(&town_name))
        || late
            .iter()
            .any(|l| !l.as_str().unwrap_or("").starts_with("超期"))
    {
        return Err(format!(
            "every row names {town_name} and how long it is overdue: {page2}"
        ));
    }
    // The address keeps the list: a reload shows the same page.
    browser.call("POST", "/refresh", json!({}))?;
    let again = wait_list(
        browser,
        "the second page after a reload",
        "r.search.includes('page=2') && r.ids.length > 0",
    )?;
    if again["ids"] != page2["ids"] || again["page"] != page2["page"] {
        return Err(format!(
            "after a reload the list shows {again}, before {page2}"
        ));
    }
    // Back to the plain list for what follows.
    browser.navigate(&format!("{}/", server.base_url()))?;
    Ok(())
}

/// `12345` → `12,345`, as the page writes counts.
fn fmt_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn duplicate_before_sending(
    browser: &Browser,
    server: &DemoServer,
    artifacts: &Path,
) -> Result<(), String> {
    let target = support::server::pick_point(&server.state().index());
    let (lon, lat) = (target.point.lon, target.point.lat);
    let (status, first) = server.api(
        "POST",
        "/api/incidents",
        Some(
            &json!({"category": "sanitation", "description": "垃圾堆放在路口", "lon": lon,
            "lat": lat, "source": "hotline"}),
        ),
    )?;
    if status != 201 {
        return Err(format!("the first report: {status} {first}"));
    }
    let original = first["incident"]["id"].as_i64().ok_or("an id")?;
    let (_, before) = server.api("GET", "/api/incidents?status=open&limit=1", None)?;

    browser.wait_for(
        "the map page",
        READY_TIMEOUT,
        "return document.querySelector('[data-test=report-start]') && document.body.dataset.appReady === '1' || null",
    )?;
    browser.click("[data-test=tab-incidents]")?;
    browser.click("[data-test=report-start]")?;
    // About 30 m east of the first report: within the duplicate radius.
    browser.click_map_at(lon + 0.0003, lat, 16.0)?;
    browser.wait_for(
        "the report form",
        ANSWER_TIMEOUT,
        "return document.querySelector('[data-test=report-form]') ? true : null",
    )?;
    browser.execute(
        "const c = document.querySelector('[data-test=report-category]');
         c.value = 'sanitation'; c.dispatchEvent(new Event('change'));",
        json!([]),
    )?;
    browser.type_into("[data-test=report-description]", "路口又有人倒垃圾")?;
    browser.wait_for(
        "the first report listed as a possible duplicate before sending",
        ANSWER_TIMEOUT,
        &format!(
            "return document.querySelector('[data-test=report-duplicate][data-incident-id=\"{original}\"]') ? true : null"
        ),
    )?;
    // The hint says the server's rule (200 m, 72 hours), not a guess.
    let hint = browser.execute(
        "return document.querySelector('[data-test=report-duplicates-before] strong').textContent;",
        json!([]),
    )?;
    if !hint
        .as_str()
        .unwrap_or("")
        .starts_with("附近 200 米、3 天内有 1 件同类未结事件")
    {
        return Err(format!("the duplicate hint: {hint}"));
    }
    browser.screenshot(&artifacts.join("desk-duplicate.png"))?;
    browser.execute(
        &format!(
            "document.querySelector('[data-test=report-duplicate][data-incident-id=\"{original}\"] [data-test=report-link-duplicate]').id = 'link-it';"
        ),
        json!([]),
    )?;
    browser.click("#link-it")?;
    // The original opens, its history holding the call.
    browser.wait_for(
        "the original incident with the linked call in its history",
        ANSWER_TIMEOUT,
        &format!(
            "const title = document.querySelector('[data-test=incident-title]');
             if (!title || !title.textContent.includes('#{original}')) return null;
             const notes = [...document.querySelectorAll('[data-test=history-entry][data-kind=note]')];
             return notes.some((n) => n.textContent.includes('路口又有人倒垃圾')) || null;"
        ),
    )?;
    let (_, after) = server.api("GET", "/api/incidents?status=open&limit=1", None)?;
    if after["total"] != before["total"] {
        return Err(format!(
            "linking must not record a new incident: {} open before, {} after",
            before["total"], after["total"]
        ));
    }
    let (_, detail) = server.api("GET", &format!("/api/incidents/{original}"), None)?;
    let noted = detail["history"].as_array().is_some_and(|h| {
        h.iter().any(|e| {
            e["kind"] == "note"
                && e["note"]
                    .as_str()
                    .is_some_and(|n| n.contains("重复上报") && n.contains("路口又有人倒垃圾"))
        })
    });
    if !noted {
        return Err(format!(
            "the original's history holds the linked call: {detail}"
        ));
    }
    Ok(())
}
