//! GeoReport's two formats and its error answer.
//!
//! Every resource is served as `.json` and `.xml` (the spec's default). The
//! handlers build one JSON value; [`Format::answer`] writes it as JSON, or
//! as the spec's XML: an array becomes an element per item named in the
//! singular (`<services><service>…`, `<service_requests><request>…`), an
//! object an element per member, `null` an empty element.
//!
//! Errors are `[{"code", "description"}]`, or `<errors><error>…` in XML,
//! with the spec's statuses. [`georeport_errors`] rewrites the problem
//! documents that the rest of the server answers on Open311 paths (the
//! access guard's 401 and 403, unknown paths, bodies over the limit) into
//! that shape, so an Open311 client never sees another format.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::Value;

use crate::dispatch::DispatchError;

/// The largest problem document the error rewriter reads, bytes.
const MAX_PROBLEM_BYTES: usize = 64 * 1024;

/// The format a path asks for by its suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Json,
    Xml,
}

impl Format {
    /// The format of a path or last segment (`requests.xml`, `12.json`);
    /// JSON when it names neither.
    pub(super) fn of(path: &str) -> Format {
        if path.ends_with(".xml") {
            Format::Xml
        } else {
            Format::Json
        }
    }

    /// A segment without its `.json` or `.xml`; 404 in GeoReport's format
    /// for any other suffix.
    pub(super) fn strip(segment: &str) -> Result<(&str, Format), Open311Error> {
        if let Some(stem) = segment.strip_suffix(".json") {
            Ok((stem, Format::Json))
        } else if let Some(stem) = segment.strip_suffix(".xml") {
            Ok((stem, Format::Xml))
        } else {
            Err(Open311Error::new(
                StatusCode::NOT_FOUND,
                format!("{segment:?}: the formats served are .json and .xml"),
            ))
        }
    }

    /// `value` in this format, as a 200 answer. `root` names the XML
    /// document element.
    pub(super) fn answer(self, root: &str, value: &Value) -> Response {
        self.answer_with(StatusCode::OK, root, value)
    }

    fn answer_with(self, status: StatusCode, root: &str, value: &Value) -> Response {
        match self {
            Format::Json => (status, axum::Json(value)).into_response(),
            Format::Xml => (
                status,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/xml; charset=utf-8"),
                )],
                to_xml(root, value),
            )
                .into_response(),
        }
    }
}

/// `value` as a GeoReport XML document with `root` as its element.
pub(super) fn to_xml(root: &str, value: &Value) -> String {
    let mut writer = Writer::new(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)));
    write_element(&mut writer, root, value);
    String::from_utf8(writer.into_inner()).unwrap_or_default()
}

fn write_element(writer: &mut Writer<Vec<u8>>, name: &str, value: &Value) {
    let text = match value {
        Value::Null => None,
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(xml_chars(s)),
        Value::Array(_) | Value::Object(_) => None,
    };
    let _ = writer.write_event(Event::Start(BytesStart::new(name)));
    match value {
        Value::Array(items) => {
            let item_name = singular(name);
            for item in items {
                write_element(writer, item_name, item);
            }
        }
        Value::Object(members) => {
            for (key, member) in members {
                write_element(writer, key, member);
            }
        }
        _ => {
            if let Some(text) = text {
                let _ = writer.write_event(Event::Text(BytesText::new(&text)));
            }
        }
    }
    let _ = writer.write_event(Event::End(BytesEnd::new(name)));
}

/// Text with every character XML 1.0 cannot carry (control characters
/// other than tab, newline and carriage return; unpaired surrogates cannot
/// occur in a Rust string) replaced by U+FFFD, so that one resident's
/// stray byte never makes a whole list unreadable.
fn xml_chars(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// The element name of one item of a list element, as the spec's XML
/// examples write them.
fn singular(list: &str) -> &str {
    match list {
        "service_requests" => "request",
        "services" => "service",
        "attributes" => "attribute",
        "values" => "value",
        "endpoints" => "endpoint",
        "formats" => "format",
        "errors" => "error",
        other => other.strip_suffix('s').unwrap_or("item"),
    }
}

/// A GeoReport error answer: `[{"code", "description"}]` in the request's
/// format, and for a throttled client (429) `Retry-After`.
#[derive(Debug)]
pub(super) struct Open311Error {
    pub(super) status: StatusCode,
    pub(super) description: String,
    pub(super) retry_after_secs: Option<u64>,
    pub(super) format: Format,
}

impl Open311Error {
    pub(super) fn new(status: StatusCode, description: String) -> Open311Error {
        Open311Error {
            status,
            description,
            retry_after_secs: None,
            format: Format::Json,
        }
    }

    /// The same error, to be written in `format`.
    pub(super) fn in_format(mut self, format: Format) -> Open311Error {
        self.format = format;
        self
    }
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        let body = serde_json::json!([{
            "code": self.status.as_u16(),
            "description": self.description,
        }]);
        let mut response = self.format.answer_with(self.status, "errors", &body);
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, secs.into());
        }
        response
    }
}

impl From<DispatchError> for Open311Error {
    fn from(e: DispatchError) -> Self {
        match e {
            DispatchError::Invalid { .. } => bad(e.to_string()),
            DispatchError::NotFound(_) => Open311Error::new(StatusCode::NOT_FOUND, e.to_string()),
            DispatchError::Store(source) => internal(source),
            other => Open311Error::new(StatusCode::CONFLICT, other.to_string()),
        }
    }
}

/// A 500 whose cause is logged, not sent.
pub(super) fn internal(e: impl std::fmt::Display) -> Open311Error {
    tracing::error!(error = %e, "Open311 request failed");
    Open311Error::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the server failed; nothing was recorded".into(),
    )
}

/// A 400 with this description.
pub(super) fn bad(description: String) -> Open311Error {
    Open311Error::new(StatusCode::BAD_REQUEST, description)
}

/// Middleware: on Open311 paths, a problem document from elsewhere in the
/// server becomes a GeoReport error in the path's format. A missing or
/// refused credential (401) is the spec's 403 "api_key was not provided
/// or invalid".
pub(in crate::api) async fn georeport_errors(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if !path.starts_with("/open311/") || !is_problem(&response) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let problem: Value = match axum::body::to_bytes(body, MAX_PROBLEM_BYTES).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    let text = |key: &str| problem.get(key).and_then(Value::as_str).map(str::to_owned);
    let reason = text("detail")
        .or_else(|| text("title"))
        .unwrap_or_else(|| parts.status.to_string());
    let (status, description) = if parts.status == StatusCode::UNAUTHORIZED {
        (
            StatusCode::FORBIDDEN,
            format!("api_key was not provided or is invalid ({reason})"),
        )
    } else {
        (parts.status, reason)
    };
    let mut error = Open311Error::new(status, description).in_format(Format::of(&path));
    error.retry_after_secs = parts
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let mut rewritten = error.into_response();
    // Keep what the other layers said (Allow on a 405, the security
    // headers), but not the problem document's type and length.
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && name != header::WWW_AUTHENTICATE
        {
            rewritten.headers_mut().insert(name, value.clone());
        }
    }
    rewritten
}

fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(super::super::PROBLEM_JSON))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_take_singular_item_names_and_text_is_escaped() {
        let xml = to_xml(
            "service_requests",
            &serde_json::json!([{"service_request_id": "7", "description": "a < b & \"c\"",
                "account_id": null, "lat": 34.5}]),
        );
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><service_requests><request>\
             <service_request_id>7</service_request_id>\
             <description>a &lt; b &amp; &quot;c&quot;</description>\
             <account_id></account_id><lat>34.5</lat></request></service_requests>"
        );
    }

    #[test]
    fn control_characters_never_reach_the_xml() {
        let xml = to_xml("a", &serde_json::json!("bell\u{7}tab\tend"));
        assert!(xml.ends_with("<a>bell\u{FFFD}tab\tend</a>"), "{xml}");
    }

    #[test]
    fn suffixes_choose_the_format() {
        assert_eq!(Format::strip("12.xml").expect("xml"), ("12", Format::Xml));
        assert_eq!(
            Format::strip("12.json").expect("json"),
            ("12", Format::Json)
        );
        assert_eq!(
            Format::strip("12.csv").expect_err("csv").status,
            StatusCode::NOT_FOUND
        );
    }
}
