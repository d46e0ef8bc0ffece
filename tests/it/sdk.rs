//! The official `openai` and `anthropic` Python SDKs talking to `rotor serve`.
