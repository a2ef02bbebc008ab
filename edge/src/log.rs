//! `tracing` events to the Workers console, which `wrangler dev`, miniflare and
//! `wrangler tail` show: the hub and the store log through `tracing` on every runtime.

use std::fmt::{Debug, Write as _};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

struct Console {
    max: Level,
}

/// An event's message first, then its other fields as `name=value`.
#[derive(Default)]
struct Line {
    message: String,
    fields: String,
}

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            name => {
                let _ = write!(self.fields, " {name}={value:?}");
            }
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message.push_str(value),
            name => {
                let _ = write!(self.fields, " {name}={value}");
            }
        }
    }
}

impl Subscriber for Console {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= self.max
    }

    // Spans carry nothing this runtime prints.
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut line = Line::default();
        event.record(&mut line);
        let meta = event.metadata();
        let text = format!("{} {}: {}{}", meta.level(), meta.target(), line.message, line.fields);
        match *meta.level() {
            Level::ERROR => worker::console_error!("{text}"),
            Level::WARN => worker::console_warn!("{text}"),
            _ => worker::console_log!("{text}"),
        }
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// Installs the console subscriber once per isolate, at `level` (`SIO_LOG`: error, warn,
/// info, debug, trace; warn when unset or unknown).
pub fn init(level: Option<&str>) {
    let max = level.and_then(|l| l.parse().ok()).unwrap_or(Level::WARN);
    // Every object and request of the isolate shares it: later calls find it set.
    let _ = tracing::subscriber::set_global_default(Console { max });
}
