//! The admin page's files (orders-api.md, "Signing in"): `GET /admin` (and `/admin/`) is
//! `www/admin/index.html`, `/admin/admin.js` and `/admin/admin.css` its code, each served from
//! the assets with [`headers`] added (`RequestEffect::AssetAt`). No credential is needed for
//! them (the page shows its sign-in form; the data is behind `/admin/api/*`), but with no
//! credential configured at all they answer `503 not_configured`, like the rest of `/admin`.

use crate::http::api_error::ApiError;
use crate::http::context::Ctx;
use crate::http::step::RequestEffect;

/// The page's Content-Security-Policy: no inline script or style, nothing from elsewhere, and
/// never in a frame.
pub const CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                       img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// One of the page's files, by the URL path the assets serve it at (`admin/index.html` is
/// served at its directory's path: the asset router redirects `/admin/index.html` there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageFile {
    Index,
    Script,
    Style,
}

impl PageFile {
    /// The file a path (trailing slashes trimmed) names.
    pub fn find(path: &str) -> Option<PageFile> {
        match path {
            "/admin" => Some(PageFile::Index),
            "/admin/admin.js" => Some(PageFile::Script),
            "/admin/admin.css" => Some(PageFile::Style),
            _ => None,
        }
    }

    pub fn asset_path(self) -> &'static str {
        match self {
            PageFile::Index => "/admin/",
            PageFile::Script => "/admin/admin.js",
            PageFile::Style => "/admin/admin.css",
        }
    }

    pub fn pattern(self) -> &'static str {
        match self {
            PageFile::Index => "/admin",
            PageFile::Script => "/admin/admin.js",
            PageFile::Style => "/admin/admin.css",
        }
    }
}

/// Every page file's headers (on top of the asset's own `Content-Type`).
pub fn headers() -> Vec<(&'static str, String)> {
    vec![
        ("content-security-policy", CSP.to_owned()),
        ("cache-control", "no-store".to_owned()),
        ("referrer-policy", "no-referrer".to_owned()),
        ("x-content-type-options", "nosniff".to_owned()),
        ("x-frame-options", "DENY".to_owned()),
    ]
}

/// The file, from the assets, or the `503` of an admin side with no credential configured.
pub fn serve(file: PageFile, ctx: &Ctx) -> Result<RequestEffect, ApiError> {
    super::open(ctx)?;
    Ok(RequestEffect::AssetAt {
        path: file.asset_path().to_owned(),
        headers: headers(),
    })
}
