//! Backstage's error envelope for the errors hyper answers itself, before any handler runs:
//! `414 URI Too Long` and `431 Request Header Fields Too Large`.
//!
//! hyper writes those responses with an empty body and offers no hook to change them, so the
//! connection's writer recognises them (our router never answers 414 or 431 itself, and hyper
//! closes the connection after them) and writes the same status with the envelope instead.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::ApiError;

/// A stream whose framework error responses are rewritten into the envelope.
pub struct Enveloped<S> {
    inner: S,
    /// A replacement response still to be written, and how much of it has been.
    pending: Option<(Vec<u8>, usize)>,
}

impl<S> Enveloped<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            pending: None,
        }
    }
}

/// The replacement for a response head hyper wrote for a request it could not parse.
fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    let rest = head
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| head.strip_prefix(b"HTTP/1.0 "))?;
    let (status, message) = match rest.get(..4)? {
        b"414 " => (
            StatusCode::URI_TOO_LONG,
            "Request URI is too long (at most 65534 bytes)",
        ),
        b"431 " => (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "Request headers are too large (at most 100 headers and 262144 bytes)",
        ),
        _ => return None,
    };
    let e = ApiError::new(status, "InputError", message);
    // The request could not be read, so there is no method or URL to echo.
    let body = e.envelope("", "").to_string();
    Some(
        format!(
            "HTTP/1.1 {} {}\r\ncontent-type: application/json; charset=utf-8\r\n\
             x-content-type-options: nosniff\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            body.len()
        )
        .into_bytes(),
    )
}

impl<S: AsyncWrite + Unpin> Enveloped<S> {
    /// Writes what is left of a replacement; ready once it is all written.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, done)) = &mut self.pending {
            if *done == bytes.len() {
                self.pending = None;
                break;
            }
            match Pin::new(&mut self.inner).poll_write(cx, &bytes[*done..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *done += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Takes `first` (the start of a write of `total` bytes) over when it is a framework error.
    fn intercept(&mut self, first: &[u8], total: usize) -> Option<usize> {
        let bytes = replacement(first)?;
        self.pending = Some((bytes, 0));
        Some(total)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Enveloped<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Enveloped<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(self.poll_pending(cx))?;
        if let Some(n) = self.intercept(buf, buf.len()) {
            // Written when flushed: hyper flushes before it closes.
            return Poll::Ready(Ok(n));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(self.poll_pending(cx))?;
        let first = bufs.iter().find(|b| !b.is_empty());
        let total = bufs.iter().map(|b| b.len()).sum();
        if let Some(n) = first.and_then(|f| self.intercept(f, total)) {
            return Poll::Ready(Ok(n));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::replacement;

    #[test]
    fn only_414_and_431_heads_are_replaced() {
        let r = replacement(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n",
        )
        .unwrap();
        let text = String::from_utf8(r).unwrap();
        assert!(text.starts_with("HTTP/1.1 431 "), "{text}");
        assert!(
            text.ends_with(r#""response":{"statusCode":431}}"#),
            "{text}"
        );
        assert!(replacement(b"HTTP/1.1 414 URI Too Long\r\n\r\n").is_some());
        assert!(replacement(b"HTTP/1.1 404 Not Found\r\n\r\n").is_none());
        assert!(replacement(b"{\"items\":[]}").is_none());
    }
}
