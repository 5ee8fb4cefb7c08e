//! Tagging actions.
