//! Creating a payment: token rejections, and errors cleaned of every secret.

use serde_json::{json, Value};

use crate::error::Error;
use crate::login::Token;
use crate::redaction_list;
use crate::secret::Secret;
use crate::transport::{Response, TransportError};

use super::super::{ClientConfig, CreatePayment, Login, OpInput, Requery, Tokens};
use super::*;

/// A create whose login (if any) succeeds with `token` and whose create is answered with `reply`.
fn create_answered(
    config: &ClientConfig,
    tokens: &mut Tokens,
    token: &str,
    reply: Result<Response, TransportError>,
) -> Result<crate::CreatedPayment, Error> {
    let payment = payment();
    let mut reply = Some(reply);
    let (result, _, _) = run(
        &mut CreatePayment::new(config, &payment, SEED),
        tokens,
        T0,
        |request| {
            if path(request) == "/api/loginApi" {
                login_answer(token)
            } else {
                reply.take().unwrap_or_else(created_answer)
            }
        },
    );
    result
}

fn expired() -> Result<Response, TransportError> {
    answer(
        401,
        r#"{"status":"false","description":"Token expired","code":401}"#,
    )
}

#[test]
fn a_401_on_create_drops_that_token_so_the_next_create_logs_in_afresh() {
    let config = config();
    let mut tokens = Tokens::default();
    let token = token_at(T0, 1);
    let err = create_answered(&config, &mut tokens, &token, expired()).unwrap_err();
    assert!(err.is_token_rejection());
    assert!(tokens.cached().is_none(), "the rejected token is gone");
    let payment = payment();
    let (_, request) =
        sent(CreatePayment::new(&config, &payment, SEED).step(T0, OpInput::Start, &mut tokens));
    assert_eq!(path(&request), "/api/loginApi");
}

#[test]
fn a_401_keeps_a_token_that_another_operation_already_replaced() {
    let config = config();
    let payment = payment();
    let mut tokens = Tokens::default();
    let old = token_at(T0, 1);
    tokens.land(1, &Ok(Token::new(Secret::new(old))), T0);
    let mut op = CreatePayment::new(&config, &payment, SEED);
    let (id, _) = sent(op.step(T0, OpInput::Start, &mut tokens));
    // Meanwhile another operation logs in afresh.
    let fresh = token_at(T0, 2);
    tokens.land(2, &Ok(Token::new(Secret::new(fresh.clone()))), T0 + 1);
    assert!(done(op.step(T0 + 2, OpInput::Answered(id, expired()), &mut tokens)).is_err());
    assert_eq!(
        tokens.cached().map(|t| t.secret().expose()),
        Some(fresh.as_str())
    );
}

#[test]
fn a_description_mentioning_a_token_is_not_a_rejection() {
    let config = config();
    let mut tokens = Tokens::default();
    let reply = answer(
        200,
        r#"{"status":"false","description":"The token field is required.","code":422}"#,
    );
    let err = create_answered(&config, &mut tokens, &token_at(T0, 1), reply).unwrap_err();
    assert_eq!(err.kind(), "upstream_error");
    assert!(!err.is_token_rejection());
    assert!(tokens.cached().is_some(), "the token is kept");
}

/// Every entry of the one redaction list, echoed by the gateway, leaves the error.
#[test]
fn create_errors_are_cleaned_of_the_whole_redaction_list() {
    let config = config_with_password("p@ss word/1");
    let token = token_at(T0, 1);
    let list = redaction_list(["merchant", "p@ss word/1", token.as_str()]);
    for secret in &list {
        let mut tokens = Tokens::default();
        let echo =
            json!({"status": "false", "description": format!("echo <{secret}>"), "code": 422});
        let err = create_answered(&config, &mut tokens, &token, answer(200, &echo.to_string()))
            .unwrap_err();
        assert!(
            err.to_string().ends_with("echo <[redacted]>"),
            "{secret}: {err}"
        );
    }
}

#[test]
fn login_and_requery_errors_carry_no_credentials() {
    let config = config();
    let mut tokens = Tokens::default();
    let (result, _, _) = run(&mut Login::new(&config, SEED), &mut tokens, T0, |_| {
        answer(
            200,
            r#"{"status":"false","description":"Wrong password s3cret-pw for merchant"}"#,
        )
    });
    let err = result.unwrap_err();
    assert!(matches!(err, Error::AuthFailed { .. }));
    assert!(
        err.to_string()
            .ends_with("Wrong password [redacted] for [redacted]"),
        "{err}"
    );

    let reference = reference();
    let (result, _, _) = run(
        &mut Requery::new(&config, &reference, SEED),
        &mut tokens,
        T0,
        |_| {
            Err(TransportError::Failed(
                "fetch http://gw.test/api/kelantan-requery/merchant/R1 failed".into(),
            ))
        },
    );
    let err = result.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }));
    assert!(!format!("{err} {err:?}").contains("merchant"), "{err}");
}

/// The gateway's create answer with `amount` and `reference` as given (`None`: the key absent).
fn echoing(amount: Option<serde_json::Value>, reference: Option<serde_json::Value>) -> Response {
    let mut body = json!({"status": "true", "url": "http://gw.test/kelantanpay/R1/abc",
        "token": "abc", "orderid": "KPAY1", "code": 200});
    let fields = body.as_object_mut().unwrap();
    if let Some(amount) = amount {
        fields.insert("amount".into(), amount);
    }
    if let Some(reference) = reference {
        fields.insert("reference".into(), reference);
    }
    Response {
        status: 200,
        body: body.to_string().into_bytes(),
    }
}

#[test]
fn a_create_whose_echo_differs_from_what_was_sent_is_an_upstream_error() {
    // `payment()` sends RM2.00 under the reference R1.
    let config = config();
    let token = token_at(T0, 1);
    let sent = |amount: Option<serde_json::Value>, reference: Option<serde_json::Value>| {
        let mut tokens = Tokens::default();
        create_answered(&config, &mut tokens, &token, Ok(echoing(amount, reference)))
    };
    for (amount, reference) in [
        (Some(json!(2)), Some(json!("R1"))),
        (Some(json!("2.00")), Some(json!("R1"))),
        (None, Some(json!("R1"))),
        (Some(json!(2)), None),
        (None, None),
    ] {
        let created = sent(amount.clone(), reference.clone());
        assert!(created.is_ok(), "{amount:?} {reference:?}: {created:?}");
    }
    for (amount, reference) in [
        (Some(json!(3)), Some(json!("R1"))),
        (Some(json!("200.00")), None),
        (Some(json!("")), Some(json!("R1"))),
        (Some(json!(" ")), Some(json!("R1"))),
        (Some(Value::Null), Some(json!("R1"))),
        (Some(json!("RM2.00")), Some(json!("R1"))),
        (Some(json!(2)), Some(json!("R2"))),
        (Some(json!(2)), Some(json!(""))),
        (Some(json!(2)), Some(Value::Null)),
        (None, Some(json!("r1"))),
    ] {
        let err = sent(amount.clone(), reference.clone()).unwrap_err();
        assert_eq!(err.kind(), "upstream_error", "{amount:?} {reference:?}");
        assert!(
            matches!(err, Error::MalformedResponse { .. }),
            "{amount:?} {reference:?}: {err:?}"
        );
        // Not a reason to log in again, nor a payment the gateway already has.
        assert!(!err.is_token_rejection() && !err.is_duplicate_reference());
    }
}
