//! One send of an alert (`SlotAction::Alert`): to Telegram's Bot API (`sendMessage`, through the
//! upstream fetch: the webhooks' timeout, redirects not followed) or by e-mail through the
//! `NOTIFY_EMAIL` binding. Which alerts, when and what they say is `payment`'s (`alerts`,
//! `alert_mail`, the outbox); this only sends and says how it went, as `SlotInput::Delivered`'s
//! status. The bot token is in Telegram's URL: neither the URL nor a fetch error's text (which
//! may quote it) is ever logged, nor an e-mail address.

use kelantanpay::DEFAULT_TIMEOUT;
use wasm_bindgen::JsValue;
use worker::{console_log, Env};

use crate::config::alerts::{EmailTarget, TelegramTarget};
use crate::config::Config;
use crate::payment::alerts::AlertMessage;
use crate::payment::outbox::Channel;
use crate::runtime::upstream;

/// One attempt on `channel`: Telegram's HTTP status; for e-mail `Some(200)` when the binding
/// took it, `Some(400)` when it refused the message; `None` when nothing answered (or the
/// channel is not configured any more: the outbox keeps it and retries).
pub async fn send(
    env: &Env,
    config: &Config,
    channel: Channel,
    id: &str,
    message: &AlertMessage,
) -> Option<u16> {
    match channel {
        Channel::Telegram => telegram(config.alerts.telegram.as_ref()?, &message.text).await,
        Channel::Email => email(env, config.alerts.email.as_ref()?, id, message).await,
        Channel::Webhook => None,
    }
}

async fn telegram(target: &TelegramTarget, text: &str) -> Option<u16> {
    let headers = web_sys::Headers::new().ok()?;
    headers.set("content-type", "application/json").ok()?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_redirect(web_sys::RequestRedirect::Manual);
    init.set_body(&JsValue::from_str(&target.body(text)));
    match upstream::fetch(&target.send_url(), &init, DEFAULT_TIMEOUT).await {
        Ok(response) => Some(response.status()),
        Err(e) => {
            let detail = if upstream::is_timeout(&e) {
                "timeout"
            } else {
                "unreached"
            };
            failed(Channel::Telegram, detail);
            None
        }
    }
}

/// The merchant tools' build (feature `settings-check`, loaded in Node, never sending) leaves the
/// e-mail out: its glue would import `cloudflare:email`, which Node does not have.
#[cfg(feature = "settings-check")]
async fn email(_: &Env, _: &EmailTarget, _: &str, _: &AlertMessage) -> Option<u16> {
    None
}

#[cfg(not(feature = "settings-check"))]
async fn email(env: &Env, target: &EmailTarget, id: &str, message: &AlertMessage) -> Option<u16> {
    use crate::config::alerts::EMAIL_BINDING;
    use crate::payment::alert_mail::alert_mail;
    use crate::runtime::clock::now_ms;
    use worker::EmailMessage;

    let Ok(binding) = env.send_email(EMAIL_BINDING) else {
        failed(Channel::Email, "no_binding");
        return None;
    };
    let raw = alert_mail(&target.from, &target.to, id, message, now_ms());
    let Ok(mail) = EmailMessage::new(&target.from, &target.to, &raw) else {
        failed(Channel::Email, "refused");
        return Some(400);
    };
    match binding.send(&mail).await {
        Ok(_) => Some(200),
        Err(e) => {
            // The binding's words for a message it will not send (addresses not allowed or
            // not verified, a message it cannot parse); anything else did not reach it.
            let text = e
                .message()
                .as_string()
                .unwrap_or_default()
                .to_ascii_lowercase();
            let refused = [
                "not allowed",
                "not verified",
                "could not parse",
                "invalid",
                "does not match",
            ]
            .iter()
            .any(|w| text.contains(w));
            failed(
                Channel::Email,
                if refused { "refused" } else { "unreached" },
            );
            refused.then_some(400)
        }
    }
}

/// The kind of failure only: never the URL, an address or the error's text.
fn failed(channel: Channel, detail: &str) {
    let line = serde_json::json!({"msg": "alert_send_failed", "channel": channel.as_str(),
        "detail": detail});
    console_log!("{line}");
}
