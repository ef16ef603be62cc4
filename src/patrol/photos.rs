//! Photos from the field: a check-in's picture of a hazard, a report's
//! picture of what happened. An upload is kept only when it is the image
//! its type says (decoded in full, within size and pixel limits, so a
//! truncated file or a decompression bomb is refused by name), with a JPEG
//! thumbnail for lists and panels, turned the way the camera held it (EXIF
//! orientation); both are stored in one unit of work under a random token,
//! the photo's public name. One photo is decoded at a time: a decode may
//! take a few hundred megabytes, and the server has other work.
//!
//! Each account has a daily allowance ([`PhotoQuota`]: photos and bytes in
//! any 24 hours), checked before the decode and again in the unit that
//! stores the photo, so that one phone (or one stolen token) cannot fill
//! the database.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use jiff::Timestamp;
use rand::RngCore;
use tokio::sync::Semaphore;

use crate::model::{NewPhoto, PhotoUploads, THUMBNAIL_PX};
use crate::patrol::PatrolError;
use crate::services::feed::Feed;
use crate::text;

/// The largest upload, bytes: a phone's full-resolution JPEG is 2–6 MB.
pub const MAX_PHOTO_BYTES: usize = 12 * 1024 * 1024;

/// The largest side accepted, pixels (a 50-megapixel sensor is 8,160 wide).
const MAX_SIDE_PX: u32 = 8_192;

/// The most memory decoding may take, bytes (a 50-megapixel photo in RGB
/// is 150 MB; a phone photo of 12 MP is 36 MB).
const MAX_DECODE_BYTES: u64 = 192 * 1024 * 1024;

/// How much one account may upload in any 24 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoQuota {
    /// Photos.
    pub photos: u64,
    /// Bytes of the images as uploaded.
    pub bytes: u64,
}

impl Default for PhotoQuota {
    /// 300 photos and 1 GiB a day: a member checking in at 40 hazards a day
    /// with a few photos each, from a 12-megapixel phone (2–6 MB a photo).
    fn default() -> Self {
        PhotoQuota {
            photos: 300,
            bytes: 1024 * 1024 * 1024,
        }
    }
}

/// The window of [`PhotoQuota`].
const QUOTA_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

impl PhotoQuota {
    /// Refuse one more upload of `size` bytes by `account` at `now`, when
    /// with `uploads` (its last 24 hours) it would pass the allowance.
    fn check(
        &self,
        account: &str,
        uploads: PhotoUploads,
        size: u64,
        now: Timestamp,
    ) -> Result<(), PatrolError> {
        if uploads.count < self.photos && uploads.bytes.saturating_add(size) <= self.bytes {
            return Ok(());
        }
        // The allowance frees up as the oldest upload leaves the window.
        let retry_after_secs = uploads
            .oldest
            .map(|t| (t + QUOTA_WINDOW).duration_since(now).as_secs().max(1))
            .map_or(3600, |s| s.unsigned_abs());
        let (photos, mb) = (self.photos, self.bytes / (1024 * 1024));
        Err(PatrolError::TooMany {
            detail: text!(
                "{account} has used up the photo allowance of {photos} photos or {mb} MB in \
                 24 hours: nothing was stored; try again in {retry_after_secs} s",
                "{account} 24 小时内上传的照片已达上限（{photos} 张或 {mb} MB），\
                 本张未保存，请 {retry_after_secs} 秒后重试"
            ),
            retry_after_secs,
        })
    }
}

/// Photos decoded at once.
static DECODING: Semaphore = Semaphore::const_new(1);

/// One upload at a time per account, from the allowance's first check to
/// the commit: two uploads sent together cannot both pass a count that
/// each sees without the other (PostgreSQL's READ COMMITTED would let
/// them; SQLite's writers are one at a time anyway). Within one server
/// process; with several, an account may pass its allowance by at most one
/// photo per process. Entries are a few bytes per account ever seen.
static UPLOADING: std::sync::LazyLock<
    std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
> = std::sync::LazyLock::new(Default::default);

/// The lock of `account`'s uploads.
fn uploads_of(account: &str) -> std::sync::Arc<tokio::sync::Mutex<()>> {
    UPLOADING
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(account.to_owned())
        .or_default()
        .clone()
}

/// A stored photo: its public token and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedPhoto {
    /// The photo's public name, for its address.
    pub token: String,
    /// Pixels across (as shown, after the camera's orientation).
    pub width: u32,
    /// Pixels down.
    pub height: u32,
}

/// The accepted types and the formats they name.
const TYPES: [(&str, ImageFormat); 3] = [
    ("image/jpeg", ImageFormat::Jpeg),
    ("image/png", ImageFormat::Png),
    ("image/webp", ImageFormat::WebP),
];

/// Check `bytes` as an image of `content_type` and make its thumbnail.
pub fn prepare(
    bytes: Vec<u8>,
    content_type: &str,
    uploaded_by: &str,
    now: Timestamp,
) -> Result<NewPhoto, PatrolError> {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Some(&(name, format)) = TYPES.iter().find(|(t, _)| *t == media) else {
        return Err(PatrolError::invalid(
            "content-type",
            text!(
                "a photo is image/jpeg, image/png or image/webp, not {content_type:?}",
                "照片格式须为 image/jpeg、image/png 或 image/webp，收到的是 {content_type:?}"
            ),
        ));
    };
    if bytes.is_empty() {
        return Err(PatrolError::invalid(
            "body",
            text!("the photo is empty", "照片内容为空"),
        ));
    }
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(PatrolError::invalid(
            "body",
            text!(
                "the photo is {} bytes; at most {MAX_PHOTO_BYTES} are accepted",
                "照片大小为 {} 字节，最多接受 {MAX_PHOTO_BYTES} 字节",
                bytes.len()
            ),
        ));
    }
    let mut reader = ImageReader::with_format(Cursor::new(&bytes[..]), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE_PX);
    limits.max_image_height = Some(MAX_SIDE_PX);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let unreadable = |e: image::ImageError| {
        PatrolError::invalid(
            "body",
            text!(
                "the body is not a readable {name} image: {e}",
                "无法将请求体读取为 {name} 图片：{e}"
            ),
        )
    };
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let orientation = decoder.orientation().map_err(unreadable)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    image.apply_orientation(orientation);
    let thumbnail = image.thumbnail(THUMBNAIL_PX, THUMBNAIL_PX).into_rgb8();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
        .encode_image(&thumbnail)
        .map_err(|e| {
            PatrolError::invalid(
                "body",
                text!("no thumbnail could be made: {e}", "无法生成缩略图：{e}"),
            )
        })?;
    let mut token = [0u8; 16];
    rand::rng().fill_bytes(&mut token);
    Ok(NewPhoto {
        token: token.iter().map(|b| format!("{b:02x}")).collect(),
        content_type: name.to_owned(),
        width: image.width(),
        height: image.height(),
        bytes,
        thumbnail: jpeg,
        uploaded_by: uploaded_by.to_owned(),
        uploaded_at: now,
    })
}

/// Check and store a photo (decoded off the async runtime, one at a time),
/// within its uploader's daily `quota`.
pub async fn save(
    feed: &Feed,
    quota: PhotoQuota,
    bytes: Vec<u8>,
    content_type: String,
    uploaded_by: String,
    now: Timestamp,
) -> Result<SavedPhoto, PatrolError> {
    let size = bytes.len() as u64;
    let account = uploads_of(&uploaded_by);
    let _one_at_a_time = account.lock().await;
    // Before the decode, so that an account past its allowance costs no
    // decoding; the unit that stores checks again.
    {
        let mut unit = feed.begin().await?;
        let uploads = unit
            .unit()
            .photo_uploads_since(&uploaded_by, now - QUOTA_WINDOW)
            .await?;
        quota.check(&uploaded_by, uploads, size, now)?;
    }
    let unreadable = |e: String| {
        PatrolError::invalid(
            "body",
            text!("the photo could not be read: {e}", "无法读取照片：{e}"),
        )
    };
    let photo = {
        let _turn = DECODING
            .acquire()
            .await
            .map_err(|e| unreadable(e.to_string()))?;
        tokio::task::spawn_blocking(move || prepare(bytes, &content_type, &uploaded_by, now))
            .await
            .map_err(|e| unreadable(e.to_string()))??
    };
    let mut unit = feed.begin().await?;
    let uploads = unit
        .unit()
        .photo_uploads_since(&photo.uploaded_by, now - QUOTA_WINDOW)
        .await?;
    quota.check(&photo.uploaded_by, uploads, size, now)?;
    unit.unit().create_photo(&photo).await?;
    unit.commit().await?;
    Ok(SavedPhoto {
        token: photo.token,
        width: photo.width,
        height: photo.height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let mut out = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .expect("a PNG");
        out
    }

    #[test]
    fn a_photo_is_kept_with_a_jpeg_thumbnail() {
        let now = Timestamp::UNIX_EPOCH;
        let photo = prepare(png(1200, 800), "image/png", "member", now).expect("a photo");
        assert_eq!((photo.width, photo.height), (1200, 800));
        let thumb = image::load_from_memory_with_format(&photo.thumbnail, ImageFormat::Jpeg)
            .expect("a JPEG thumbnail");
        assert_eq!((thumb.width(), thumb.height()), (320, 213));
    }

    #[test]
    fn what_is_not_the_image_it_says_is_refused_by_name() {
        let now = Timestamp::UNIX_EPOCH;
        let field = |r: Result<NewPhoto, PatrolError>| match r {
            Err(PatrolError::Invalid { field, .. }) => field,
            other => panic!("refused, not {other:?}"),
        };
        assert_eq!(
            field(prepare(png(10, 10), "image/gif", "m", now)),
            "content-type"
        );
        assert_eq!(
            field(prepare(b"not an image".to_vec(), "image/jpeg", "m", now)),
            "body"
        );
        assert_eq!(field(prepare(png(10, 10), "image/jpeg", "m", now)), "body");
        let mut cut = png(100, 100);
        cut.truncate(cut.len() / 2);
        assert_eq!(field(prepare(cut, "image/png", "m", now)), "body");
        assert_eq!(field(prepare(Vec::new(), "image/png", "m", now)), "body");
    }
}
