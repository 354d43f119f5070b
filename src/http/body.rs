//! Reading a request body from its stream, within a byte limit.

use futures_util::StreamExt;
use js_sys::Uint8Array;
use wasm_streams::readable::{sys::ReadableStream as RawStream, ReadableStream};
use worker::Request;

use super::error::ApiError;
use super::request::{declared_too_large, is_media};

/// The body as text, refusing (413) as soon as it is known to exceed `limit`: from
/// `Content-Length` before reading, or from the bytes read so far, so no more than `limit`
/// bytes are ever held. Headers are checked before the body is touched, and a body this
/// stops reading is let go of, never cancelled: `worker/index.js` reads what is left.
///
/// # Errors
/// 415 for a body that is not of `media` (or none where one is needed), 413 over `limit`,
/// 400 `invalid_json` for a body that cannot be read or is not UTF-8.
pub(crate) async fn read_body(
    request: &Request,
    limit: usize,
    may_be_empty: bool,
    media: &str,
) -> Result<String, ApiError> {
    // The stream as it is: getting it neither reads nor locks it.
    let Some(body) = request.inner().body() else {
        return match may_be_empty {
            true => Ok(String::new()),
            false => Err(ApiError::unsupported_media_type(media)),
        };
    };
    let header = |name: &str| request.headers().get(name).ok().flatten();
    let content_type = header("content-type");
    if !is_media(content_type.as_deref(), media) {
        // `curl -X POST` with no data sends no content type, and workerd hands the Worker
        // an empty stream rather than no body: an empty create body is still welcome.
        let untyped_empty = may_be_empty && content_type.is_none();
        return match untyped_empty && read_bytes(body, 0).await.is_ok() {
            true => Ok(String::new()),
            false => Err(ApiError::unsupported_media_type(media)),
        };
    }
    if declared_too_large(header("content-length").as_deref(), limit) {
        return Err(ApiError::payload_too_large(limit));
    }
    let bytes = read_bytes(body, limit).await?;
    String::from_utf8(bytes).map_err(|_| ApiError::invalid_json("the body is not UTF-8"))
}

/// The bytes of a body stream, refusing (413) as soon as they would be over `limit`. The
/// reader lets go of the stream when dropped without cancelling it: under `wrangler dev`, a
/// cancelled upload breaks the client's connection (500 or a reset) instead of answering.
async fn read_bytes(body: RawStream, limit: usize) -> Result<Vec<u8>, ApiError> {
    let unreadable = || ApiError::invalid_json("the body could not be read");
    let mut body = ReadableStream::from_raw(body);
    let mut chunks = body
        .try_get_reader()
        .map_err(|_| unreadable())?
        .into_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = chunks.next().await {
        let chunk = Uint8Array::from(chunk.map_err(|_| unreadable())?);
        if bytes.len() + chunk.length() as usize > limit {
            return Err(ApiError::payload_too_large(limit));
        }
        bytes.extend_from_slice(&chunk.to_vec());
    }
    Ok(bytes)
}
