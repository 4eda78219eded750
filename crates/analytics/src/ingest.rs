//! Reading a batch of Backstage frontend analytics events (the body of
//! `POST /api/analytics/v1/events`): `{"events": [{id?, timestamp, user, action, subject, value?,
//! attributes?, context: {pluginId, extension, routeRef, entityRef?}}]}`. Each event is checked
//! on its own, so one bad event is rejected with its index and reason and the others are kept.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::event::{Context, Event, Source};

/// An event refused, by its position in the batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    pub index: usize,
    pub reason: String,
}

/// What a batch came to: events stored, events already stored (same id, or twice in the batch),
/// and the ones refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: Vec<Rejected>,
}

/// Why a whole batch was refused.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("{0}")]
    Shape(String),
    #[error("a batch holds at most {max} events; this one has {found}")]
    TooMany { max: usize, found: usize },
    #[error("more than {per_second} events per second were sent; retry in {retry_after} s")]
    RateLimited { per_second: u64, retry_after: u64 },
    #[error("storing events failed: {0}")]
    Store(#[from] store::StoreError),
}

/// Longest accepted strings and attribute sets: enough for any route, title or query, small
/// enough that a batch cannot grow the table without bound.
const MAX_ID: usize = 200;
const MAX_TEXT: usize = 1_000;
const MAX_ATTRIBUTES: usize = 32;
const MAX_ATTRIBUTES_BYTES: usize = 4_096;
/// Clocks drift: a timestamp up to this far ahead is taken as it is.
const MAX_AHEAD: Duration = Duration::hours(1);

/// The events array of a batch body, or why the body is not one.
pub fn events_of(body: &Value, max_batch: usize) -> Result<&[Value], BatchError> {
    let events = body
        .as_object()
        .and_then(|o| o.get("events"))
        .ok_or_else(|| {
            BatchError::Shape("the body must be an object with an `events` list".into())
        })?
        .as_array()
        .ok_or_else(|| BatchError::Shape("`events` must be a list".into()))?;
    if events.len() > max_batch {
        return Err(BatchError::TooMany {
            max: max_batch,
            found: events.len(),
        });
    }
    Ok(events)
}

/// One event of a batch, or why it is refused. `oldest` is the earliest timestamp kept (the
/// raw-event retention); `now` the server's clock.
pub fn parse(v: &Value, now: DateTime<Utc>, oldest: DateTime<Utc>) -> Result<Event, String> {
    let o = v.as_object().ok_or("an event must be an object")?;
    let text = |key: &str, required: bool| -> Result<Option<String>, String> {
        match o.get(key) {
            None | Some(Value::Null) if !required => Ok(None),
            None | Some(Value::Null) => Err(format!("`{key}` is required")),
            Some(Value::String(s)) if s.chars().count() > MAX_TEXT => {
                Err(format!("`{key}` is longer than {MAX_TEXT} characters"))
            }
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("`{key}` must be a string")),
        }
    };
    let id = text("id", false)?;
    if let Some(id) = &id
        && (id.is_empty() || id.len() > MAX_ID)
    {
        return Err(format!("`id` must be 1 to {MAX_ID} characters"));
    }
    let stamp = text("timestamp", true)?.unwrap_or_default();
    let at = DateTime::parse_from_rfc3339(&stamp)
        .map_err(|e| format!("`timestamp` is not an RFC 3339 date-time ({e}): {stamp:?}"))?
        .with_timezone(&Utc);
    if at > now + MAX_AHEAD {
        return Err(format!("`timestamp` {stamp} is in the future"));
    }
    if at < oldest {
        return Err(format!(
            "`timestamp` {stamp} is older than the raw-event retention (from {})",
            oldest.date_naive()
        ));
    }
    let user = user_ref(&text("user", true)?.unwrap_or_default())?;
    let action = text("action", true)?.unwrap_or_default();
    if action.trim().is_empty() {
        return Err("`action` must not be empty".into());
    }
    let subject = text("subject", true)?.unwrap_or_default();
    let value = match o.get("value") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_f64().filter(|f| f.is_finite()),
        Some(_) => return Err("`value` must be a number".into()),
    };
    let attributes = match o.get("attributes") {
        None | Some(Value::Null) => None,
        Some(Value::Object(a)) => Some(attributes(a)?),
        Some(_) => return Err("`attributes` must be an object".into()),
    };
    let c = match o.get("context") {
        Some(Value::Object(c)) => c,
        None | Some(Value::Null) => return Err("`context` is required".into()),
        Some(_) => return Err("`context` must be an object".into()),
    };
    let ctx = |key: &str, required: bool| -> Result<Option<String>, String> {
        match c.get(key) {
            None | Some(Value::Null) if !required => Ok(None),
            None | Some(Value::Null) => Err(format!("`context.{key}` is required")),
            Some(Value::String(s)) if s.chars().count() > MAX_TEXT => Err(format!(
                "`context.{key}` is longer than {MAX_TEXT} characters"
            )),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("`context.{key}` must be a string")),
        }
    };
    let context = Context {
        plugin_id: ctx("pluginId", true)?.unwrap_or_default(),
        extension: ctx("extension", true)?.unwrap_or_default(),
        route_ref: ctx("routeRef", true)?.unwrap_or_default(),
        entity_ref: match ctx("entityRef", false)? {
            None => None,
            Some(r) => Some(
                model::EntityRef::parse(&r, None, "default")
                    .map_err(|e| format!("`context.entityRef` {r:?}: {e}"))?
                    .key(),
            ),
        },
    };
    Ok(Event {
        id,
        at,
        user,
        action,
        subject,
        value,
        attributes,
        context,
        source: Source::Backstage,
    })
}

/// `user:default/jane`, `user:jane` or `jane` → `user:default/jane`; any other kind is refused.
fn user_ref(text: &str) -> Result<String, String> {
    let r = model::EntityRef::parse(text, Some("user"), "default")
        .map_err(|e| format!("`user` {text:?} is not a user reference: {e}"))?;
    if !r.kind.eq_ignore_ascii_case("user") {
        return Err(format!(
            "`user` {text:?} must name a User, not a {}",
            r.kind
        ));
    }
    Ok(r.key())
}

/// Attributes are flat: strings, numbers and booleans, as Backstage's `AnalyticsEventAttributes`.
fn attributes(a: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    if a.len() > MAX_ATTRIBUTES {
        return Err(format!("`attributes` has more than {MAX_ATTRIBUTES} keys"));
    }
    if let Some((k, _)) = a
        .iter()
        .find(|(_, v)| !matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)))
    {
        return Err(format!(
            "`attributes.{k}` must be a string, number or boolean"
        ));
    }
    if Value::Object(a.clone()).to_string().len() > MAX_ATTRIBUTES_BYTES {
        return Err(format!(
            "`attributes` is larger than {MAX_ATTRIBUTES_BYTES} bytes"
        ));
    }
    Ok(a.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        "2026-12-04T10:00:00Z".parse().unwrap()
    }

    fn good() -> Value {
        json!({
            "id": "e1", "timestamp": "2026-12-04T09:59:00+01:00", "user": "user:default/Jane",
            "action": "navigate", "subject": "/catalog", "value": 2,
            "attributes": {"q": "x", "n": 1, "ok": true},
            "context": {"pluginId": "catalog", "extension": "App", "routeRef": "catalog", "entityRef": "component:default/Checkout"}
        })
    }

    #[test]
    fn the_backstage_shape_is_read() {
        let e = parse(&good(), now(), now() - Duration::days(400)).unwrap();
        assert_eq!(e.user, "user:default/jane");
        assert_eq!(
            e.at,
            "2026-12-04T08:59:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            e.context.entity_ref.as_deref(),
            Some("component:default/checkout")
        );
        assert_eq!(e.value, Some(2.0));
        assert_eq!(e.feature(), "catalog");
        // Optional fields may be left out.
        let mut v = good();
        for k in ["id", "value", "attributes"] {
            v.as_object_mut().unwrap().remove(k);
        }
        v["context"].as_object_mut().unwrap().remove("entityRef");
        v["user"] = json!("jane");
        let e = parse(&v, now(), now() - Duration::days(400)).unwrap();
        assert_eq!((e.id, e.user.as_str()), (None, "user:default/jane"));
    }

    #[test]
    fn each_bad_field_has_its_reason() {
        let oldest = now() - Duration::days(400);
        let cases: Vec<(Value, &str)> = vec![
            (json!({"timestamp": "yesterday"}), "RFC 3339"),
            (
                json!({"timestamp": "2026-12-06T00:00:00Z"}),
                "in the future",
            ),
            (json!({"timestamp": "2020-01-01T00:00:00Z"}), "retention"),
            (json!({"user": "group:default/x"}), "must name a User"),
            (json!({"user": null}), "`user` is required"),
            (json!({"action": ""}), "`action` must not be empty"),
            (json!({"value": "3"}), "`value` must be a number"),
            (json!({"attributes": {"a": {"b": 1}}}), "attributes.a"),
            (json!({"context": {"pluginId": "x"}}), "context.extension"),
            (json!({"id": ""}), "`id` must be"),
        ];
        for (patch, reason) in cases {
            let mut v = good();
            for (k, x) in patch.as_object().unwrap() {
                v[k] = x.clone();
            }
            let err = parse(&v, now(), oldest).unwrap_err();
            assert!(err.contains(reason), "{patch}: {err}");
        }
        assert!(parse(&json!(3), now(), oldest).is_err());
    }

    #[test]
    fn batches_are_bounded() {
        let body = json!({"events": [1, 2, 3]});
        assert!(matches!(
            events_of(&body, 2),
            Err(BatchError::TooMany { max: 2, found: 3 })
        ));
        assert_eq!(events_of(&body, 3).unwrap().len(), 3);
        assert!(matches!(
            events_of(&json!([]), 3),
            Err(BatchError::Shape(_))
        ));
    }
}
