//! What `rotor serve` answers where: the three API surfaces, the pool that serves each, and
//! the few endpoints of its own.

use crate::error::{Error, Result};
use crate::providers::{self, Api};
use hyper::Method;

/// An API a client speaks to rotor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Surface {
    /// The Responses API (`/v1/responses`, `/backend-api/codex/responses`).
    Responses,
    /// Chat Completions (`/v1/chat/completions`).
    Chat,
    /// Anthropic Messages (`/v1/messages`).
    Messages,
}

impl Surface {
    pub(crate) const ALL: [Surface; 3] = [Surface::Responses, Surface::Chat, Surface::Messages];

    /// The name used by `--route` and in metrics.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Surface::Responses => "responses",
            Surface::Chat => "chat",
            Surface::Messages => "messages",
        }
    }

    fn parse(name: &str) -> Option<Surface> {
        Surface::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The stream format of its answers.
    pub(crate) fn api(self) -> Api {
        match self {
            Surface::Responses => Api::CodexResponses,
            Surface::Chat => Api::ChatCompletions,
            Surface::Messages => Api::AnthropicMessages,
        }
    }

    /// Whether a pool of `provider` can answer this surface: Codex accounts speak only the
    /// Responses API, Anthropic only Messages, and OpenAI-compatible endpoints Chat
    /// Completions (and the Responses API, which OpenAI's own serves).
    pub(crate) fn served_by(self, provider: &str) -> bool {
        match Api::for_provider(provider) {
            Api::CodexResponses => self == Surface::Responses,
            Api::AnthropicMessages => self == Surface::Messages,
            Api::ChatCompletions => self != Surface::Messages,
        }
    }

    /// Where a request of this surface goes upstream, from a profile's base URL.
    pub(crate) fn upstream_url(self, base: &str) -> String {
        let base = base.trim_end_matches('/');
        match self {
            Surface::Responses => format!("{base}/responses"),
            Surface::Chat => format!("{base}/chat/completions"),
            Surface::Messages => providers::inference_url(Api::AnthropicMessages, base),
        }
    }

    /// The paths clients send it to.
    pub(crate) fn paths(self) -> &'static [&'static str] {
        match self {
            Surface::Responses => &["/v1/responses", "/backend-api/codex/responses"],
            Surface::Chat => &["/v1/chat/completions"],
            Surface::Messages => &["/v1/messages"],
        }
    }
}

/// What a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Api(Surface),
    Models,
    Healthz,
    Readyz,
    Metrics,
}

impl Endpoint {
    /// The route label of metrics.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Endpoint::Api(surface) => surface.name(),
            Endpoint::Models => "models",
            Endpoint::Healthz => "healthz",
            Endpoint::Readyz => "readyz",
            Endpoint::Metrics => "metrics",
        }
    }
}

/// Why a request matched no endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Miss {
    NotFound,
    /// The path exists for this other method.
    Method(&'static str),
}

/// The endpoint of `method path` (the path without its query).
pub(crate) fn endpoint(method: &Method, path: &str) -> Result<Endpoint, Miss> {
    let (wanted, endpoint) = match path {
        "/v1/models" => (Method::GET, Endpoint::Models),
        "/healthz" => (Method::GET, Endpoint::Healthz),
        "/readyz" => (Method::GET, Endpoint::Readyz),
        "/metrics" => (Method::GET, Endpoint::Metrics),
        _ => match Surface::ALL.into_iter().find(|s| s.paths().contains(&path)) {
            Some(surface) => (Method::POST, Endpoint::Api(surface)),
            None => return Err(Miss::NotFound),
        },
    };
    if *method == wanted || (wanted == Method::GET && *method == Method::HEAD) {
        Ok(endpoint)
    } else if wanted == Method::GET {
        Err(Miss::Method("GET"))
    } else {
        Err(Miss::Method("POST"))
    }
}

/// A path a client sends when its base URL lacks `/v1` (or has it twice): what to tell it.
pub(crate) fn hint_for(path: &str) -> Option<&'static str> {
    let tail = path.trim_start_matches("/v1").trim_start_matches("/v1");
    match tail {
        "/responses" | "/chat/completions" | "/models" => {
            Some("set the client's base URL to http://ADDR/v1 (OpenAI SDKs, Codex, Hermes)")
        }
        "/messages" => Some("set the Anthropic client's base URL to http://ADDR, without /v1"),
        _ => None,
    }
}

/// Which pool serves each surface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Routes {
    routes: Vec<(Surface, String)>,
}

impl Routes {
    /// The routes for a pool file with `providers`, after `--route API=PROVIDER` (`none`
    /// turns a surface off). Defaults: Responses → `openai-codex`, Messages → `anthropic`,
    /// Chat → the one OpenAI-compatible pool (several: `--route chat=…` is required).
    pub(crate) fn resolve(providers: &[&str], overrides: &[String]) -> Result<Routes> {
        let mut chosen: Vec<(Surface, Option<String>)> = Vec::new();
        for text in overrides {
            let (api, provider) = text.split_once('=').ok_or_else(|| {
                Error::usage(format!(
                    "--route {}: expected API=PROVIDER (API: responses, chat, messages)",
                    crate::sanitize::one_line(text, 60)
                ))
            })?;
            let surface = Surface::parse(api.trim()).ok_or_else(|| {
                Error::usage(format!(
                    "--route: unknown API `{}`: expected responses, chat or messages",
                    crate::sanitize::one_line(api, 30)
                ))
            })?;
            let provider = provider.trim();
            let provider = if provider == "none" {
                None
            } else {
                crate::cli::selector::check_provider(provider, providers)?;
                if !surface.served_by(provider) {
                    return Err(Error::usage(format!(
                        "--route {}={provider}: a {provider} pool cannot answer the {} API",
                        surface.name(),
                        surface.name()
                    )));
                }
                Some(provider.to_string())
            };
            chosen.retain(|(s, _)| *s != surface);
            chosen.push((surface, provider));
        }
        let mut routes = Vec::new();
        for surface in Surface::ALL {
            let provider = match chosen.iter().find(|(s, _)| *s == surface) {
                Some((_, provider)) => provider.clone(),
                None => default_route(surface, providers)?,
            };
            if let Some(provider) = provider {
                routes.push((surface, provider));
            }
        }
        if routes.is_empty() {
            return Err(Error::NotFound(format!(
                "no pool to serve: auth.json has {}; rotor serve answers the Responses API from \
                 openai-codex, Messages from anthropic and Chat Completions from an \
                 OpenAI-compatible pool",
                if providers.is_empty() {
                    "no credential pool".to_string()
                } else {
                    format!("only {}", providers.join(", "))
                }
            )));
        }
        Ok(Routes { routes })
    }

    /// The pool serving `surface`, if one does.
    pub(crate) fn provider(&self, surface: Surface) -> Option<&str> {
        self.routes
            .iter()
            .find(|(s, _)| *s == surface)
            .map(|(_, p)| p.as_str())
    }

    /// Every route, in surface order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Surface, &str)> {
        self.routes.iter().map(|(s, p)| (*s, p.as_str()))
    }

    /// The distinct pools served, in surface order.
    pub(crate) fn providers(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (_, p) in &self.routes {
            if !out.contains(p) {
                out.push(p.clone());
            }
        }
        out
    }
}

fn default_route(surface: Surface, providers: &[&str]) -> Result<Option<String>> {
    let present = |name: &str| providers.contains(&name).then(|| name.to_string());
    match surface {
        Surface::Responses => Ok(present("openai-codex")),
        Surface::Messages => Ok(present("anthropic")),
        Surface::Chat => {
            let compatible: Vec<&str> = providers
                .iter()
                .copied()
                .filter(|p| Api::for_provider(p) == Api::ChatCompletions)
                .collect();
            match compatible.as_slice() {
                [] => Ok(None),
                [one] => Ok(Some((*one).to_string())),
                several => Err(Error::usage(format!(
                    "several OpenAI-compatible pools ({}) could answer Chat Completions: pass \
                     --route chat=PROVIDER (or --route chat=none)",
                    several.join(", ")
                ))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn endpoints_by_method_and_path() {
        assert_eq!(
            endpoint(&Method::POST, "/v1/responses"),
            Ok(Endpoint::Api(Surface::Responses))
        );
        assert_eq!(
            endpoint(&Method::POST, "/backend-api/codex/responses"),
            Ok(Endpoint::Api(Surface::Responses))
        );
        assert_eq!(
            endpoint(&Method::POST, "/v1/messages"),
            Ok(Endpoint::Api(Surface::Messages))
        );
        assert_eq!(endpoint(&Method::GET, "/v1/models"), Ok(Endpoint::Models));
        assert_eq!(endpoint(&Method::HEAD, "/healthz"), Ok(Endpoint::Healthz));
        assert_eq!(
            endpoint(&Method::GET, "/v1/responses"),
            Err(Miss::Method("POST"))
        );
        assert_eq!(
            endpoint(&Method::POST, "/metrics"),
            Err(Miss::Method("GET"))
        );
        assert_eq!(endpoint(&Method::POST, "/responses"), Err(Miss::NotFound));
        assert_eq!(endpoint(&Method::GET, "/api/tags"), Err(Miss::NotFound));
        assert!(hint_for("/responses").is_some());
        assert!(hint_for("/v1/v1/messages").is_some());
        assert!(hint_for("/api/tags").is_none());
    }

    #[test]
    fn default_routes_follow_the_pools_present() {
        let routes = Routes::resolve(&["openai-codex", "anthropic", "openrouter"], &[]).unwrap();
        assert_eq!(routes.provider(Surface::Responses), Some("openai-codex"));
        assert_eq!(routes.provider(Surface::Messages), Some("anthropic"));
        assert_eq!(routes.provider(Surface::Chat), Some("openrouter"));
        let routes = Routes::resolve(&["openai-codex"], &[]).unwrap();
        assert_eq!(routes.provider(Surface::Chat), None);
        assert_eq!(routes.providers(), ["openai-codex"]);
    }

    #[test]
    fn several_compatible_pools_need_a_route_for_chat() {
        let providers = ["openrouter", "custom"];
        let err = Routes::resolve(&providers, &[]).unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::USAGE);
        assert!(err.to_string().contains("--route chat="), "{err}");
        let routes = Routes::resolve(&providers, &["chat=custom".into()]).unwrap();
        assert_eq!(routes.provider(Surface::Chat), Some("custom"));
        let routes = Routes::resolve(
            &providers,
            &["chat=none".into(), "responses=openrouter".into()],
        )
        .unwrap();
        assert_eq!(routes.provider(Surface::Chat), None);
        assert_eq!(routes.provider(Surface::Responses), Some("openrouter"));
    }

    #[test]
    fn bad_routes_are_refused_with_their_exit_codes() {
        let providers = ["openai-codex", "anthropic"];
        let code = |route: &str| {
            Routes::resolve(&providers, &[route.to_string()])
                .unwrap_err()
                .exit_code()
        };
        assert_eq!(code("chat=openai-codex"), crate::error::exit::USAGE);
        assert_eq!(code("messages=openai-codex"), crate::error::exit::USAGE);
        assert_eq!(code("responses=nope"), crate::error::exit::NOT_FOUND);
        assert_eq!(code("embeddings=anthropic"), crate::error::exit::USAGE);
        assert_eq!(code("responses"), crate::error::exit::USAGE);
        let err = Routes::resolve(&[], &[]).unwrap_err();
        assert_eq!(err.exit_code(), crate::error::exit::NOT_FOUND);
    }
}
