//! Real agents through `rotor serve`: Hermes, Codex CLI and OpenClaw.
