//! Fixtures the core's tests share (the step machines' tests in `operation/tests/` and the
//! driver's in `client/tests.rs`): one merchant account, one payment, one way to mint a token.

use std::time::Duration;

use serde_json::json;

use crate::base64url;
use crate::login::Credentials;
use crate::operation::ClientConfig;
use crate::payment::{Merchant, NewPayment};
use crate::reference::Reference;
use crate::secret::Secret;
use crate::transport::RetryPolicy;
use crate::url::BaseUrl;

pub(crate) fn config() -> ClientConfig {
    config_with_password("s3cret-pw")
}

pub(crate) fn config_with_password(password: &str) -> ClientConfig {
    ClientConfig {
        base_url: BaseUrl::parse("http://gw.test").expect("a valid base URL"),
        credentials: Credentials {
            username: "merchant".into(),
            password: Secret::new(password),
        },
        merchant: Merchant {
            provider: "p".into(),
            account: "a".into(),
            country: "MY".into(),
        },
        timeout: Duration::from_secs(10),
        retry: RetryPolicy::default(),
    }
}

pub(crate) fn payment() -> NewPayment {
    let input = json!({"amount": 2, "name": "A", "email": "a@b.co", "mobile": "0123456789"});
    let object = input.as_object().expect("an object");
    NewPayment::from_json(object, reference).expect("a valid payment")
}

pub(crate) fn reference() -> Reference {
    Reference::parse("R1").expect("a valid reference")
}

/// A JWT that expires at `exp` (unix seconds); `n` tells tokens apart.
pub(crate) fn jwt(exp: u64, n: u32) -> String {
    format!(
        "{}.{}.signature-of-login-{n}",
        base64url::encode(br#"{"typ":"JWT","alg":"HS256"}"#),
        base64url::encode(format!(r#"{{"exp":{exp},"n":{n}}}"#).as_bytes())
    )
}

/// A token good for an hour from `now_ms`.
pub(crate) fn token_at(now_ms: u64, n: u32) -> String {
    jwt(now_ms / 1000 + 3600, n)
}
