//! The one place an operation's error is cleaned before it leaves the core.

use crate::error::Error;
use crate::login::Token;
use crate::secret::redaction_list;

use super::config::ClientConfig;
use super::tokens::Tokens;

/// `error` without the merchant's credentials and the login tokens in play (the one
/// `used` for the call and the cached one), however the gateway quoted them.
pub(crate) fn redact(
    error: Error,
    config: &ClientConfig,
    tokens: &Tokens,
    used: Option<&Token>,
) -> Error {
    let credentials = &config.credentials;
    let in_play = used.into_iter().chain(tokens.cached());
    let list = redaction_list(
        [credentials.username.as_str(), credentials.password.expose()]
            .into_iter()
            .chain(in_play.map(|t| t.secret().expose())),
    );
    let secrets: Vec<&str> = list.iter().map(String::as_str).collect();
    error.redacted(&secrets)
}
