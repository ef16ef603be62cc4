//! The language a text meant for people is written in: English for API
//! clients (the default), Chinese for the web map and any client that asks
//! for `zh` (`Accept-Language`). Route notices and the statistics' file
//! headers are written in either.

/// English or Chinese.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// For API clients (the default): the JSON field names' words.
    English,
    /// The desk's words: 上报, 办结 …; for the web map.
    Chinese,
}
