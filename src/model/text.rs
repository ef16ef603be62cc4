//! Sentences for people, written in both languages wangge speaks.
//!
//! An error the API sends carries its sentence as a [`Text`]: English for
//! API clients (the default) and Chinese for the web map and any client
//! whose `Accept-Language` prefers `zh`. Keeping both side by side at the
//! place the sentence is made means the compiler, not a catalogue that can
//! drift, makes sure no error reaches a Chinese user in English only.
//!
//! Domain errors keep their English in `#[error(...)]` (logs, CLI) and give
//! their Chinese through [`Localized`]; [`Text::of`] takes both.

use super::Language;

/// One sentence in English and in Chinese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    en: String,
    zh: String,
}

impl Text {
    /// The sentence in both languages.
    pub fn new(en: impl Into<String>, zh: impl Into<String>) -> Self {
        Text {
            en: en.into(),
            zh: zh.into(),
        }
    }

    /// A domain error's sentence: its `Display` (English) and its Chinese.
    pub fn of<E: Localized + ?Sized>(error: &E) -> Self {
        Text::new(error.to_string(), error.zh())
    }

    /// The English sentence.
    pub fn en(&self) -> &str {
        &self.en
    }

    /// The Chinese sentence.
    pub fn zh(&self) -> &str {
        &self.zh
    }

    /// The sentence in `language`.
    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::English => &self.en,
            Language::Chinese => &self.zh,
        }
    }

    /// This sentence followed by `more`: English joined by `"; "`, Chinese
    /// by `"，"` (e.g. an error and "nothing was changed").
    pub fn then(self, more: Text) -> Text {
        Text {
            en: format!("{}; {}", self.en, more.en),
            zh: format!("{}，{}", self.zh, more.zh),
        }
    }
}

/// The English sentence, as logs and `Display`-based callers expect.
impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}

/// An error (or any message for people) that can also say itself in
/// Chinese. Its `Display` is the English.
pub trait Localized: std::fmt::Display {
    /// The message in Chinese, with the same facts (names, numbers, ids) as
    /// the English.
    fn zh(&self) -> String;
}

/// A [`Text`] from two format strings with the same arguments, English
/// first: `text!("no incident {id}", "未找到编号为 {id} 的事件")`. Arguments
/// given after the strings are evaluated once for each language, so pass
/// plain values.
#[macro_export]
macro_rules! text {
    ($en:literal, $zh:literal $(,)?) => {
        $crate::model::Text::new(format!($en), format!($zh))
    };
    ($en:literal, $zh:literal, $($arg:tt)+) => {
        $crate::model::Text::new(format!($en, $($arg)+), format!($zh, $($arg)+))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_take_the_same_values() {
        let id = 42;
        let t = crate::text!("no incident {id}", "未找到编号为 {id} 的事件");
        assert_eq!(t.en(), "no incident 42");
        assert_eq!(t.get(Language::Chinese), "未找到编号为 42 的事件");
        assert_eq!(t.to_string(), "no incident 42");
        let n = 3;
        let t = crate::text!("{} of {n}", "第 {} 个，共 {n} 个", 1);
        assert_eq!((t.en(), t.zh()), ("1 of 3", "第 1 个，共 3 个"));
    }

    #[test]
    fn then_joins_each_language_in_its_own_way() {
        let t = Text::new("stale", "已过时").then(Text::new("nothing was changed", "未作任何更改"));
        assert_eq!(t.en(), "stale; nothing was changed");
        assert_eq!(t.zh(), "已过时，未作任何更改");
    }
}
