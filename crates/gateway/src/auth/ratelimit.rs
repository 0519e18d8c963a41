//! Login endpoints are limited per client address: a fixed one-minute window per
//! address (IPv6 grouped by /64, since one host usually owns the whole prefix).
//! In memory: each gateway instance counts for itself, which bounds guessing at
//! N × limit; good enough for an endpoint that only starts a redirect.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use cordee_pathway::Millis;

use crate::limits::FixedWindow;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;

/// Login attempts per client address.
pub struct RateLimiter {
    window: FixedWindow<IpAddr>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            window: FixedWindow::per_minute(per_minute),
        }
    }

    /// Counts one attempt; `Err(retry_after)` when the address is over its limit.
    pub fn check(&self, client: IpAddr, now: Millis) -> Result<(), Duration> {
        self.window.check(group(client), now)
    }
}

fn group(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
    }
}

/// The client's address: the TCP peer, or — only when a trusted proxy sits in front
/// (`behind_proxy`) — the last address of `X-Forwarded-For`, which is the one our
/// proxy appended. Earlier entries are whatever the client chose to send.
pub fn client_ip(parts: &Parts, behind_proxy: bool) -> Option<IpAddr> {
    if behind_proxy {
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .next_back();
        if forwarded.is_some() {
            return forwarded;
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// The client address of a request, as `client_ip` reads it.
pub struct ClientAddr(pub Option<IpAddr>);

impl axum::extract::FromRequestParts<crate::state::AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_ip(parts, state.settings.behind_proxy)))
    }
}

/// Counts a login attempt; `Err` when the address is over its limit.
pub fn limit(state: &crate::state::AppState, client: &ClientAddr) -> Result<(), RateLimited> {
    let Some(ip) = client.0 else {
        return Ok(());
    };
    state
        .auth
        .limiter
        .check(ip, state.now())
        .map_err(RateLimited)
}

/// 429 `auth.rate_limited` with `Retry-After`.
#[derive(Debug)]
pub struct RateLimited(pub Duration);

impl axum::response::IntoResponse for RateLimited {
    fn into_response(self) -> axum::response::Response {
        let mut response = crate::error::ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "auth.rate_limited",
            "Too many login attempts from your address; wait a minute and try again.",
        )
        .into_response();
        if let Ok(v) = axum::http::HeaderValue::from_str(&self.0.as_secs().max(1).to_string()) {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        response
    }
}

/// What a login endpoint can refuse with.
#[derive(Debug)]
pub enum LoginRefusal {
    Limited(RateLimited),
    Api(crate::error::ApiError),
}

impl From<RateLimited> for LoginRefusal {
    fn from(r: RateLimited) -> Self {
        LoginRefusal::Limited(r)
    }
}

impl From<crate::error::ApiError> for LoginRefusal {
    fn from(e: crate::error::ApiError) -> Self {
        LoginRefusal::Api(e)
    }
}

impl axum::response::IntoResponse for LoginRefusal {
    fn into_response(self) -> axum::response::Response {
        match self {
            LoginRefusal::Limited(r) => r.into_response(),
            LoginRefusal::Api(e) => e.into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_per_window_then_reset() {
        let limiter = RateLimiter::new(2);
        let t0 = Millis(1_000_000);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limiter.check(a, t0).is_ok());
        assert!(limiter.check(a, t0).is_ok());
        let retry = limiter.check(a, t0.plus_secs(10)).unwrap_err();
        assert_eq!(retry, Duration::from_secs(50));
        assert!(
            limiter.check(b, t0).is_ok(),
            "other addresses are not affected"
        );
        assert!(
            limiter.check(a, t0.plus_secs(60)).is_ok(),
            "a new window starts"
        );
    }

    #[test]
    fn ipv6_hosts_share_their_prefix() {
        let limiter = RateLimiter::new(1);
        let t0 = Millis(1_000_000);
        assert!(
            limiter
                .check("2001:db8:1:2::1".parse().unwrap(), t0)
                .is_ok()
        );
        assert!(
            limiter
                .check("2001:db8:1:2::ffff".parse().unwrap(), t0)
                .is_err()
        );
        assert!(
            limiter
                .check("2001:db8:1:3::1".parse().unwrap(), t0)
                .is_ok()
        );
    }

    fn parts(xff: Option<&str>) -> Parts {
        let mut builder = axum::http::Request::builder();
        if let Some(v) = xff {
            builder = builder.header("x-forwarded-for", v);
        }
        let (mut parts, ()) = builder.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 5000))));
        parts
    }

    #[test]
    fn forwarded_for_is_honoured_only_behind_a_proxy() {
        let p = parts(Some("203.0.113.9, 198.51.100.7"));
        assert_eq!(client_ip(&p, false), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(client_ip(&p, true), Some("198.51.100.7".parse().unwrap()));
        let p = parts(Some("garbage"));
        assert_eq!(client_ip(&p, true), Some("10.0.0.1".parse().unwrap()));
    }
}
