//! The statistics of `GET /api/incidents/stats` as files for people: CSV
//! and an Excel workbook (XLSX), with headers in Chinese or English.
//!
//! - **CSV**: one row per grid, then `total`; the overall figures, then
//!   reported and resolved per category. In English its headers are the
//!   JSON field names (for scripts); in Chinese they are the desk's words
//!   and the file starts with a byte-order mark, without which Excel reads
//!   UTF-8 as the system's code page and garbles every character.
//! - **XLSX**: three sheets, 按网格 (the same table, rates as percentages),
//!   按月 (the monthly trend of the selection) and 条件 (what was selected
//!   and when the file was made), written by `rust_xlsxwriter`.

use std::collections::BTreeMap;

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use crate::dispatch::stats::{Counts, GridStats, Stats};
use crate::model::{Category, Level};

/// The language of a file's headers (the desk's words, or the JSON field
/// names); the file's own words are chosen here.
pub(super) use crate::model::Language as Lang;

/// What a file says besides the table: the grid names, the category
/// names and what was selected.
pub(super) struct Labels<'a> {
    /// The name of a row's grid (none for the total and the outside row).
    pub grid_name: &'a dyn Fn(&GridStats) -> Option<String>,
    /// The categories the county knows, for their names.
    pub categories: &'a [Category],
    /// What was selected, as (what, value) lines for the 条件 sheet.
    pub selection: Vec<(&'static str, String)>,
}

impl Lang {
    fn text(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Chinese => zh,
            Lang::English => en,
        }
    }

    /// The leading columns of the per-grid table.
    fn grid_columns(self) -> [&'static str; 3] {
        [
            self.text("网格编码", "grid"),
            self.text("网格名称", "name"),
            self.text("层级", "level"),
        ]
    }

    /// The headers of the overall figures, in `Counts` order.
    fn count_headers(self) -> [&'static str; 7] {
        match self {
            Lang::Chinese => [
                "上报",
                "办结",
                "作废",
                "在办",
                "超期",
                "办结率",
                "办结用时中位数（小时）",
            ],
            Lang::English => [
                "reported",
                "resolved",
                "dismissed",
                "open",
                "overdue",
                "resolution_rate",
                "median_hours_to_resolve",
            ],
        }
    }

    /// The (reported, resolved) headers of one category.
    fn category_headers(self, code: &str, categories: &[Category]) -> [String; 2] {
        match self {
            Lang::Chinese => {
                let name = categories
                    .iter()
                    .find(|c| c.code == code)
                    .map_or(code, |c| c.name.as_str());
                [format!("{name}上报"), format!("{name}办结")]
            }
            Lang::English => [format!("{code}_reported"), format!("{code}_resolved")],
        }
    }
}

/// The figures of a row as numbers (rates and medians `None` when there
/// is nothing to compute them over).
fn figures(c: &Counts) -> [Option<f64>; 7] {
    [
        Some(c.reported as f64),
        Some(c.resolved as f64),
        Some(c.dismissed as f64),
        Some(c.open as f64),
        Some(c.overdue as f64),
        c.resolution_rate,
        c.median_hours_to_resolve,
    ]
}

/// The rows of the per-grid table: id, name, the figures, and per
/// category (reported, resolved); the total last.
fn grid_rows<'a>(
    stats: &'a Stats,
    lang: Lang,
    labels: &Labels<'_>,
) -> Vec<(String, String, &'a GridStats)> {
    let mut rows: Vec<(String, String, &GridStats)> = stats
        .grids
        .iter()
        .map(|g| {
            let id = g.grid.as_ref().map_or(String::new(), |id| id.0.clone());
            let name = (labels.grid_name)(g).unwrap_or_else(|| {
                if g.grid.is_none() {
                    lang.text("不在任何网格", "").to_owned()
                } else {
                    String::new()
                }
            });
            (id, name, g)
        })
        .collect();
    let total = match lang {
        Lang::Chinese => "合计",
        Lang::English => "total",
    };
    rows.push((total.to_owned(), String::new(), &stats.total));
    rows
}

/// The category codes seen in the selection, in code order.
fn category_codes(stats: &Stats) -> Vec<&String> {
    stats.total.by_category.keys().collect()
}

/// A table's header: its own leading columns, then the overall figures,
/// then reported and resolved for each category in `codes`.
fn table_header(
    leading: &[&str],
    codes: &[&String],
    lang: Lang,
    labels: &Labels<'_>,
) -> Vec<String> {
    let mut header: Vec<String> = leading.iter().map(|&c| c.to_owned()).collect();
    header.extend(lang.count_headers().map(String::from));
    for code in codes {
        header.extend(lang.category_headers(code, labels.categories));
    }
    header
}

/// The per-grid table as CSV.
pub(super) fn to_csv(
    stats: &Stats,
    lang: Lang,
    labels: &Labels<'_>,
) -> Result<Vec<u8>, csv::Error> {
    let codes = category_codes(stats);
    let start: Vec<u8> = match lang {
        Lang::Chinese => "\u{feff}".as_bytes().to_vec(),
        Lang::English => Vec::new(),
    };
    let mut out = csv::Writer::from_writer(start);
    out.write_record(table_header(&lang.grid_columns(), &codes, lang, labels))?;
    for (id, name, g) in grid_rows(stats, lang, labels) {
        let mut record = vec![id, name, stats.level.get().to_string()];
        let [reported, resolved, dismissed, open, overdue, rate, median] = figures(&g.counts);
        for count in [reported, resolved, dismissed, open, overdue] {
            record.push(count.map_or(String::new(), |v| format!("{v:.0}")));
        }
        for ratio in [rate, median] {
            record.push(ratio.map_or(String::new(), |v| format!("{v:.4}")));
        }
        for code in &codes {
            let c = g.by_category.get(*code).cloned().unwrap_or_default();
            record.push(c.reported.to_string());
            record.push(c.resolved.to_string());
        }
        out.write_record(record)?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// The statistics as an Excel workbook.
pub(super) fn to_xlsx(
    stats: &Stats,
    lang: Lang,
    labels: &Labels<'_>,
) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0%");
    let hours = Format::new().set_num_format("0.0");
    let codes = category_codes(stats);

    // 按网格: the table.
    let sheet = workbook.add_worksheet();
    sheet.set_name(lang.text("按网格", "by grid"))?;
    write_header(
        sheet,
        &table_header(&lang.grid_columns(), &codes, lang, labels),
        &bold,
    )?;
    for (r, (id, name, g)) in grid_rows(stats, lang, labels).into_iter().enumerate() {
        let row = u32::try_from(r + 1).unwrap_or(u32::MAX);
        sheet.write_string(row, 0, id)?;
        sheet.write_string(row, 1, name)?;
        sheet.write_number(row, 2, f64::from(stats.level.get()))?;
        write_figures(sheet, row, 3, &g.counts, &percent, &hours)?;
        write_categories(sheet, row, 10, &codes, &g.by_category)?;
    }
    sheet.set_column_width(0, 18)?;
    sheet.set_column_width(1, 16)?;
    sheet.set_column_width(9, 22)?;
    sheet.set_freeze_panes(1, 2)?;

    // 按月: the trend.
    let sheet = workbook.add_worksheet();
    sheet.set_name(lang.text("按月", "by month"))?;
    let month_column = [lang.text("月份", "month")];
    write_header(
        sheet,
        &table_header(&month_column, &codes, lang, labels),
        &bold,
    )?;
    for (r, month) in stats.months.iter().enumerate() {
        let row = u32::try_from(r + 1).unwrap_or(u32::MAX);
        sheet.write_string(row, 0, &month.month)?;
        write_figures(sheet, row, 1, &month.counts, &percent, &hours)?;
        write_categories(sheet, row, 8, &codes, &month.by_category)?;
    }
    sheet.set_column_width(7, 22)?;
    sheet.set_freeze_panes(1, 1)?;

    // 条件: what was selected.
    let sheet = workbook.add_worksheet();
    sheet.set_name(lang.text("条件", "selection"))?;
    for (r, (what, value)) in labels.selection.iter().enumerate() {
        let row = u32::try_from(r).unwrap_or(u32::MAX);
        sheet.write_string_with_format(row, 0, *what, &bold)?;
        sheet.write_string(row, 1, value)?;
    }
    sheet.set_column_width(0, 14)?;
    sheet.set_column_width(1, 32)?;
    workbook.save_to_buffer()
}

fn write_header(sheet: &mut Worksheet, header: &[String], bold: &Format) -> Result<(), XlsxError> {
    for (c, text) in header.iter().enumerate() {
        sheet.write_string_with_format(0, column(c), text, bold)?;
    }
    Ok(())
}

/// The seven figures of `counts` from column `first`: counts as numbers,
/// the rate as a percentage, the median in hours; blank where undefined.
fn write_figures(
    sheet: &mut Worksheet,
    row: u32,
    first: usize,
    counts: &Counts,
    percent: &Format,
    hours: &Format,
) -> Result<(), XlsxError> {
    for (k, value) in figures(counts).into_iter().enumerate() {
        let col = column(first + k);
        match (k, value) {
            (_, None) => sheet.write_blank(row, col, &Format::new())?,
            (5, Some(v)) => sheet.write_number_with_format(row, col, v, percent)?,
            (6, Some(v)) => sheet.write_number_with_format(row, col, v, hours)?,
            (_, Some(v)) => sheet.write_number(row, col, v)?,
        };
    }
    Ok(())
}

/// Reported and resolved per category from column `first`.
fn write_categories(
    sheet: &mut Worksheet,
    row: u32,
    first: usize,
    codes: &[&String],
    by_category: &BTreeMap<String, Counts>,
) -> Result<(), XlsxError> {
    for (k, code) in codes.iter().enumerate() {
        let c = by_category.get(*code).cloned().unwrap_or_default();
        sheet.write_number(row, column(first + 2 * k), c.reported as f64)?;
        sheet.write_number(row, column(first + 2 * k + 1), c.resolved as f64)?;
    }
    Ok(())
}

/// A column number as rust_xlsxwriter takes it (a sheet has 16,384; a
/// table here has 10 plus two per category).
fn column(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}

/// The level's name in the file's language.
pub(super) fn level_name(level: Level, lang: Lang) -> String {
    let zh = ["乡镇", "村（社区）", "组", "网格", "片区"];
    match lang {
        Lang::Chinese => zh
            .get(usize::from(level.get()).saturating_sub(1))
            .map_or_else(|| level.get().to_string(), |n| (*n).to_owned()),
        Lang::English => format!("level {}", level.get()),
    }
}
