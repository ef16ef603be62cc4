//! Finding grids by what people type: part of a name (`东关`, `第三网格`), or
//! the start of an id or code (`620521100`). The search box of the web map
//! and `GET /api/grids/search` use it.
//!
//! Matching is case-insensitive, and full-width ASCII (what Chinese input
//! methods type for digits and letters: `６２０５`) counts as its half-width
//! form. Results come best first:
//!
//! 1. by how the grid matched ([`MatchKind`]): the whole name, id or code
//!    exactly; then one of them starting with the query; then the name
//!    containing it (ids and codes match by prefix only: a code's middle
//!    digits mean nothing on their own);
//! 2. then coarser levels first (a town before the villages named after it);
//! 3. then shorter names (closer to the query), then by id.
//!
//! A search scans every grid: 2,403 grids take well under a millisecond, so
//! an index of names would cost more memory than it saves.

use std::borrow::Cow;

use super::{GridIndex, GridIx};
use crate::geom::Bbox;

/// How a grid matched a query, best first (the order results come in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchKind {
    /// The name, id or code is the query.
    Exact,
    /// The name, id or code starts with the query.
    Prefix,
    /// The name contains the query elsewhere.
    Substring,
}

impl MatchKind {
    /// The kind as the API names it: `exact`, `prefix` or `substring`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::Prefix => "prefix",
            MatchKind::Substring => "substring",
        }
    }
}

/// One grid found by [`GridIndex::search`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchHit {
    /// The grid's position in the index.
    pub ix: GridIx,
    /// How it matched.
    pub kind: MatchKind,
}

impl GridIndex {
    /// The grids matching `query`, best first (see the [module](self) doc),
    /// at most `limit`. A query that is empty after trimming matches nothing.
    pub fn search(&self, query: &str, limit: usize) -> Vec<SearchHit> {
        let query = normalise(query.trim());
        if query.is_empty() || limit == 0 {
            return Vec::new();
        }
        let mut hits: Vec<SearchHit> = self
            .grids
            .iter()
            .enumerate()
            .filter_map(|(i, grid)| {
                let name = normalise(&grid.name);
                let id = normalise(grid.id.as_str());
                let code = grid.code().map(normalise);
                let keys = [Some(&name), Some(&id), code.as_ref()];
                let kind = if keys.iter().flatten().any(|k| **k == *query) {
                    MatchKind::Exact
                } else if keys.iter().flatten().any(|k| k.starts_with(&*query)) {
                    MatchKind::Prefix
                } else if name.contains(&*query) {
                    MatchKind::Substring
                } else {
                    return None;
                };
                Some(SearchHit {
                    ix: i as GridIx,
                    kind,
                })
            })
            .collect();
        // Positions are ordered by level then id, so the position breaks the
        // last ties by id.
        let key = |h: &SearchHit| {
            let grid = self.grid(h.ix);
            (h.kind, grid.level, grid.name.chars().count(), h.ix)
        };
        if hits.len() > limit {
            hits.select_nth_unstable_by_key(limit - 1, key);
            hits.truncate(limit);
        }
        hits.sort_unstable_by_key(key);
        hits
    }

    /// The bounding box of a grid, in degrees: where a map should fly to
    /// show it whole.
    pub fn bbox_of(&self, ix: GridIx) -> Bbox {
        self.shapes[ix as usize].bbox()
    }
}

/// Lower case, with full-width ASCII (U+FF01 to U+FF5E) and the ideographic
/// space folded to their ASCII forms; borrowed when nothing changes.
fn normalise(text: &str) -> Cow<'_, str> {
    let changes =
        |c: char| c.is_uppercase() || ('\u{ff01}'..='\u{ff5e}').contains(&c) || c == '\u{3000}';
    if !text.chars().any(changes) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(u32::from(c) - 0xfee0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        };
        out.extend(c.to_lowercase());
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Grid, GridId, Level};
    use geo::{MultiPolygon, Rect, coord};
    use serde_json::{Map, json};

    fn grid(id: &str, level: i64, parent: Option<&str>, name: &str, x: f64) -> Grid {
        let rect = Rect::new(coord! { x: x, y: 34.0 }, coord! { x: x + 0.1, y: 34.1 });
        let mut properties = Map::new();
        properties.insert("code".into(), json!(format!("C{id}")));
        Grid {
            id: GridId::from(id),
            level: Level::new(level).expect("1 to 5"),
            parent_id: parent.map(GridId::from),
            name: name.to_owned(),
            geometry: MultiPolygon(vec![rect.to_polygon()]),
            properties,
        }
    }

    /// Two towns side by side, each with a village named after the first.
    fn index() -> GridIndex {
        GridIndex::build(vec![
            grid("t1", 1, None, "永清镇", 106.0),
            grid("t2", 1, None, "红堡镇", 106.1),
            grid("v1", 2, Some("t1"), "永清社区", 106.0),
            grid("v2", 2, Some("t2"), "东永清村", 106.1),
            grid("v3", 2, Some("t1"), "永清", 106.0),
        ])
    }

    fn ids(index: &GridIndex, hits: &[SearchHit]) -> Vec<String> {
        hits.iter().map(|h| index.grid(h.ix).id.0.clone()).collect()
    }

    /// Exact before prefix before substring; towns first within a kind.
    #[test]
    fn orders_exact_prefix_substring() {
        let index = index();
        let hits = index.search("永清", 10);
        assert_eq!(ids(&index, &hits), ["v3", "t1", "v1", "v2"]);
        let kinds: Vec<MatchKind> = hits.iter().map(|h| h.kind).collect();
        assert_eq!(
            kinds,
            [
                MatchKind::Exact,
                MatchKind::Prefix,
                MatchKind::Prefix,
                MatchKind::Substring
            ]
        );
    }

    /// Ids and codes match by prefix, case-insensitively and in full width.
    #[test]
    fn ids_and_codes_match_by_prefix() {
        let index = index();
        assert_eq!(ids(&index, &index.search("T", 10)), ["t1", "t2"]);
        // Shorter names first among equal matches: 永清 before 永清社区.
        assert_eq!(ids(&index, &index.search("ｃｖ", 10)), ["v3", "v1", "v2"]);
        assert_eq!(index.search("cv2", 10)[0].kind, MatchKind::Exact);
        // The middle of a code is not a match.
        assert!(
            index
                .search("v2", 10)
                .iter()
                .all(|h| index.grid(h.ix).id.0 == "v2")
        );
    }

    /// The limit keeps the best; blank queries and a zero limit find nothing.
    #[test]
    fn limit_and_blank_queries() {
        let index = index();
        assert_eq!(ids(&index, &index.search("永清", 2)), ["v3", "t1"]);
        assert!(index.search("  ", 10).is_empty());
        assert!(index.search("永清", 0).is_empty());
        assert!(index.search("不存在", 10).is_empty());
    }

    /// Normalising borrows when there is nothing to change.
    #[test]
    fn normalise_folds_width_and_case() {
        assert!(matches!(normalise("永清镇"), Cow::Borrowed(_)));
        assert_eq!(normalise("ＡＢ１２\u{3000}x"), "ab12 x");
    }
}
