//! axum's rejections (a body that is not JSON or not the expected document,
//! a query string or path that cannot be read, a body over the limit) as
//! [`ApiError`]s, with a Chinese sentence beside axum's English one.
//!
//! axum and serde write their reasons in English only. The Chinese keeps
//! what a person can act on: which field is missing or unknown, which value
//! was refused, and where in the body (line and column); the type names
//! serde quotes (`u64`, `a string`) are left as they are.

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;

use super::error::ApiError;
use crate::model::Text;

/// Map a rejection's status onto the variant that names it.
fn from_rejection(status: StatusCode, text: Text) -> ApiError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(text),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(text),
        StatusCode::UNPROCESSABLE_ENTITY => ApiError::UnprocessableEntity(text),
        s if s.is_server_error() => ApiError::internal("reading the request", text.to_string()),
        _ => ApiError::BadRequest(text),
    }
}

/// axum's sentence and its Chinese: `zh_prefix` for axum's own words (up to
/// its first `": "`), then serde's reason in Chinese.
fn bilingual(status: StatusCode, english: String, zh_prefix: &str) -> Text {
    let chinese = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "请求体超出服务器允许的大小".to_owned()
    } else {
        match english.split_once(": ") {
            Some((_, reason)) => format!("{zh_prefix}：{}", serde_reason_zh(reason)),
            None => zh_prefix.to_owned(),
        }
    };
    Text::new(english, chinese)
}

/// serde's reason (`missing field `name` at line 1 column 2`) in Chinese,
/// after the path to the member at fault when serde names one
/// (`points[3].lat: invalid type: …`).
fn serde_reason_zh(reason: &str) -> String {
    match reason.split_once(": ") {
        Some((path, rest)) if !path.is_empty() && !path.contains(' ') => {
            format!("字段 {path}：{}", serde_reason_zh(rest))
        }
        _ => reason_zh(reason),
    }
}

/// One serde or serde_json reason in Chinese, with its place.
fn reason_zh(reason: &str) -> String {
    // " at line L column C" ends most of serde_json's reasons.
    let (reason, place) = match reason.rsplit_once(" at line ") {
        Some((head, tail)) => match tail.split_once(" column ") {
            Some((line, column))
                if line.bytes().all(|b| b.is_ascii_digit())
                    && column.bytes().all(|b| b.is_ascii_digit()) =>
            {
                (head, format!("（第 {line} 行第 {column} 列）"))
            }
            _ => (reason, String::new()),
        },
        None => (reason, String::new()),
    };
    // serde's lists of what it expected: "`a`, `b` or `c`", "one of …".
    let choices = |list: &str| list.trim_start_matches("one of ").replace(" or ", " 或 ");
    let said = if let Some(field) = reason.strip_prefix("missing field ") {
        format!("缺少字段 {field}")
    } else if let Some(field) = reason.strip_prefix("duplicate field ") {
        format!("字段 {field} 重复")
    } else if let Some(rest) = reason.strip_prefix("unknown field ") {
        match rest.split_once(", expected ") {
            Some((field, expected)) => {
                format!("未知字段 {field}，可用字段：{}", choices(expected))
            }
            None => format!("未知字段 {rest}"),
        }
    } else if let Some(rest) = reason.strip_prefix("unknown variant ") {
        match rest.split_once(", expected ") {
            Some((value, expected)) => {
                format!("取值 {value} 无效，可选：{}", choices(expected))
            }
            None => format!("取值 {rest} 无效"),
        }
    } else if let Some(rest) = reason.strip_prefix("invalid type: ") {
        match rest.split_once(", expected ") {
            Some((got, expected)) => format!("类型错误：收到 {got}，应为 {expected}"),
            None => format!("类型错误：{rest}"),
        }
    } else if let Some(rest) = reason.strip_prefix("invalid value: ") {
        match rest.split_once(", expected ") {
            Some((got, expected)) => format!("取值无效：收到 {got}，应为 {expected}"),
            None => format!("取值无效：{rest}"),
        }
    } else if let Some(rest) = reason.strip_prefix("invalid length ") {
        format!("长度错误：{rest}")
    } else if reason.starts_with("EOF while parsing") {
        "内容不完整，在此处意外结束".to_owned()
    } else if let Some(rest) = reason.strip_prefix("Cannot parse ") {
        format!("无法读取 {rest}")
    } else if let Some(said) = JSON_SYNTAX
        .iter()
        .find(|(english, _)| reason.starts_with(english))
        .map(|(_, chinese)| (*chinese).to_owned())
    {
        said
    } else if let Some(expected) = reason.strip_prefix("expected ") {
        format!("此处应为 {}", choices(expected))
    } else {
        format!("格式错误（{reason}）")
    };
    format!("{said}{place}")
}

/// serde_json's syntax errors (the start of each) in Chinese.
const JSON_SYNTAX: [(&str, &str); 12] = [
    ("expected value", "此处应为一个值"),
    (
        "expected ident",
        "此处内容无法识别（应为 true、false 或 null）",
    ),
    ("key must be a string", "对象的键必须是字符串"),
    ("trailing characters", "JSON 之后还有多余的内容"),
    ("trailing comma", "多了一个逗号"),
    ("invalid number", "数字无效"),
    ("number out of range", "数字超出范围"),
    ("control character", "字符串中有控制字符"),
    ("invalid escape", "字符串中有无效的转义"),
    (
        "invalid unicode code point",
        "字符串中有无效的 Unicode 码位",
    ),
    ("lone leading surrogate", "字符串中有不成对的代理码位"),
    ("recursion limit exceeded", "嵌套层数过多"),
];

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let prefix = match &r {
            JsonRejection::JsonSyntaxError(_) => "请求体不是有效的 JSON",
            JsonRejection::MissingJsonContentType(_) => {
                "请求头须为 `Content-Type: application/json`"
            }
            _ => "请求体内容不符合要求",
        };
        from_rejection(status, bilingual(status, r.body_text(), prefix))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        let status = r.status();
        from_rejection(status, bilingual(status, r.body_text(), "无法读取查询参数"))
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        let status = r.status();
        from_rejection(
            status,
            bilingual(status, r.body_text(), "无法读取地址中的参数"),
        )
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        let status = r.status();
        from_rejection(status, bilingual(status, r.body_text(), "无法读取请求体"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_reasons_keep_the_field_and_the_place() {
        assert_eq!(
            serde_reason_zh("missing field `reason` at line 1 column 2"),
            "缺少字段 `reason`（第 1 行第 2 列）"
        );
        assert_eq!(
            serde_reason_zh("unknown field `x`, expected `a` or `b` at line 1 column 5"),
            "未知字段 `x`，可用字段：`a` 或 `b`（第 1 行第 5 列）"
        );
        assert_eq!(
            serde_reason_zh("category: EOF while parsing a value at line 1 column 13"),
            "字段 category：内容不完整，在此处意外结束（第 1 行第 13 列）"
        );
        assert_eq!(
            serde_reason_zh("expected `,` or `}` at line 2 column 1"),
            "此处应为 `,` 或 `}`（第 2 行第 1 列）"
        );
        assert_eq!(
            serde_reason_zh("invalid type: string \"a\", expected u64"),
            "类型错误：收到 string \"a\"，应为 u64"
        );
        assert_eq!(
            serde_reason_zh("something else"),
            "格式错误（something else）"
        );
    }

    #[test]
    fn an_over_long_body_is_said_plainly() {
        let t = bilingual(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Failed to buffer the request body: length limit exceeded".into(),
            "请求体无法读取",
        );
        assert_eq!(t.zh(), "请求体超出服务器允许的大小");
        assert!(t.en().contains("length limit"));
    }
}
