//! `rotor serve`: the local gateway (docs/serve.md). Checks the flags, then hands over.

use super::{Context, RequestSettings};
use crate::cli::ServeArgs;
use crate::error::{Error, Result};
use crate::serve::{ServeConfig, default_key_file};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The largest `--max-body`: 1 GiB (the whole body is held in memory while it is forwarded).
const MAX_BODY_LIMIT: u64 = 1 << 30;

pub(crate) fn run(ctx: &Context, args: &ServeArgs) -> Result<()> {
    let listen = parse_listen(&args.listen)?;
    if !listen.ip().is_loopback() && !args.allow_remote {
        return Err(Error::usage(format!(
            "--listen {listen}: other hosts could reach that address; pass --allow-remote to \
             serve there (clients still need the key)"
        )));
    }
    let max_body = crate::cli::units::parse_size(&args.max_body)
        .map_err(|e| Error::usage(format!("--max-body: {e}")))?;
    if max_body == 0 || max_body > MAX_BODY_LIMIT {
        return Err(Error::usage(
            "--max-body: expected more than 0 and at most 1GiB",
        ));
    }
    let drain = crate::time::parse_duration(&args.drain_timeout)
        .map_err(|e| Error::usage(format!("--drain-timeout: {e}")))?;
    let client_timeout = super::positive_duration("client-timeout", &args.client_timeout)?;
    // The strategy of each pool is decided when its pool is known (config.yaml per provider).
    let settings = RequestSettings::from_args(&args.policy, Default::default())?;
    let config = ctx.config()?;
    let doc = ctx.load()?;
    let serve = ServeConfig {
        listen,
        key_file: args.key_file.clone().unwrap_or_else(default_key_file),
        routes: args.route.clone(),
        max_concurrency: args.max_concurrency as usize,
        max_body,
        drain_timeout: Duration::from_secs_f64(drain),
        client_timeout: Duration::from_secs_f64(client_timeout),
        trace: args.trace.trace,
        trace_file: super::trace_file(ctx, &args.trace)?,
        policy: settings.policy,
        strategy: args.strategy,
        base_url: settings.base_url,
        token_url: settings.token_url,
        timeout: settings.timeout,
        max_output: settings.max_output,
    };
    crate::serve::run(ctx.store.clone(), doc, serve, &config)
}

/// `ADDR:PORT`, with `localhost` for the IPv4 loopback address.
fn parse_listen(text: &str) -> Result<SocketAddr> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Some(port) = text.strip_prefix("localhost:")
        && let Ok(port) = port.parse::<u16>()
    {
        return Ok(SocketAddr::new(IpAddr::from([127, 0, 0, 1]), port));
    }
    Err(Error::usage(format!(
        "--listen {}: expected ADDR:PORT, e.g. 127.0.0.1:7686 or [::1]:7686",
        crate::sanitize::one_line(text, 60)
    )))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn listen_addresses() {
        assert_eq!(parse_listen("127.0.0.1:7686").unwrap().port(), 7686);
        assert!(parse_listen("[::1]:0").unwrap().ip().is_loopback());
        assert!(parse_listen("localhost:9").unwrap().ip().is_loopback());
        assert!(parse_listen("0.0.0.0:80").is_ok());
        for bad in ["", "7686", "example.com:80", "127.0.0.1:99999", "127.0.0.1"] {
            assert!(parse_listen(bad).is_err(), "{bad}");
        }
    }
}
