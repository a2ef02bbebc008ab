//! Event arguments, JSON values with binary attachments beside them.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

/// The arguments of an event or an acknowledgement.
///
/// Binary arguments stay where the client put them as `{"_placeholder":true,"num":N}`
/// values, with the bytes in `binary[N]`: echoing `Args` back reproduces the client's wire
/// form exactly, and nothing is copied or re-encoded to get there.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args {
    pub values: Vec<Value>,
    pub binary: Vec<Bytes>,
}

impl Args {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a JSON argument. A value that does not serialize becomes `null`, as
    /// `JSON.stringify` does for what it cannot represent.
    pub fn arg(mut self, value: impl Serialize) -> Self {
        self.values.push(serde_json::to_value(value).unwrap_or(Value::Null));
        self
    }

    /// Appends a binary argument.
    pub fn binary_arg(mut self, bytes: impl Into<Bytes>) -> Self {
        let placeholder = self.placeholder(bytes.into());
        self.values.push(placeholder);
        self
    }

    /// Registers bytes to be placed anywhere inside a JSON argument.
    pub fn placeholder(&mut self, bytes: Bytes) -> Value {
        self.binary.push(bytes);
        serde_json::json!({ "_placeholder": true, "num": self.binary.len() - 1 })
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<&Value> {
        self.values.get(index)
    }

    /// The argument at `index` deserialized; `None` when absent or of another shape.
    pub fn parse<T: DeserializeOwned>(&self, index: usize) -> Option<T> {
        self.values.get(index).and_then(|v| T::deserialize(v).ok())
    }

    /// The argument at `index` as a string slice.
    pub fn str(&self, index: usize) -> Option<&str> {
        self.values.get(index).and_then(Value::as_str)
    }

    /// The bytes a placeholder value stands for.
    pub fn bytes_of(&self, value: &Value) -> Option<&Bytes> {
        let obj = value.as_object()?;
        if obj.get("_placeholder") != Some(&Value::Bool(true)) {
            return None;
        }
        let num = usize::try_from(obj.get("num")?.as_u64()?).ok()?;
        self.binary.get(num)
    }

    /// The argument at `index` if it is binary.
    pub fn binary_at(&self, index: usize) -> Option<&Bytes> {
        self.values.get(index).and_then(|v| self.bytes_of(v))
    }

    /// Splits off the first argument (an event name on the wire).
    pub fn from_event_data(data: Value, binary: Vec<Bytes>) -> Option<(String, Self)> {
        let Value::Array(mut values) = data else { return None };
        if values.is_empty() {
            return None;
        }
        let name = match values.remove(0) {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        Some((name, Self { values, binary }))
    }

    pub fn from_ack_data(data: Option<Value>, binary: Vec<Bytes>) -> Self {
        let values = match data {
            Some(Value::Array(values)) => values,
            Some(other) => vec![other],
            None => Vec::new(),
        };
        Self { values, binary }
    }

    /// The wire array of an event: the name, then the arguments.
    pub fn into_event_data(self, event: &str) -> (Value, Vec<Bytes>) {
        let mut values = Vec::with_capacity(self.values.len() + 1);
        values.push(Value::String(event.to_owned()));
        values.extend(self.values);
        (Value::Array(values), self.binary)
    }

    pub fn into_ack_data(self) -> (Value, Vec<Bytes>) {
        (Value::Array(self.values), self.binary)
    }
}

impl From<Value> for Args {
    /// One JSON argument.
    fn from(value: Value) -> Self {
        Self { values: vec![value], binary: Vec::new() }
    }
}

impl From<Vec<Value>> for Args {
    fn from(values: Vec<Value>) -> Self {
        Self { values, binary: Vec::new() }
    }
}

impl From<()> for Args {
    fn from(_: ()) -> Self {
        Self::default()
    }
}

impl From<String> for Args {
    fn from(value: String) -> Self {
        Value::String(value).into()
    }
}

impl From<&str> for Args {
    fn from(value: &str) -> Self {
        Value::String(value.to_owned()).into()
    }
}

impl From<Bytes> for Args {
    fn from(bytes: Bytes) -> Self {
        Self::new().binary_arg(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_round_trip_keeps_placeholders() {
        let args = Args::new().arg(1).binary_arg(Bytes::from_static(b"\x01")).arg(json!({"a": true}));
        let (data, bin) = args.clone().into_event_data("ev");
        assert_eq!(data, json!(["ev", 1, {"_placeholder": true, "num": 0}, {"a": true}]));
        let (name, back) = Args::from_event_data(data, bin).unwrap();
        assert_eq!(name, "ev");
        assert_eq!(back, args);
        assert_eq!(back.binary_at(1).unwrap().as_ref(), b"\x01");
        assert!(back.binary_at(0).is_none());
    }

    #[test]
    fn bad_event_data() {
        assert!(Args::from_event_data(json!({}), vec![]).is_none());
        assert!(Args::from_event_data(json!([]), vec![]).is_none());
        assert!(Args::from_event_data(json!([true]), vec![]).is_none());
        assert_eq!(Args::from_event_data(json!([7]), vec![]).unwrap().0, "7");
    }

    #[test]
    fn placeholder_out_of_range_is_not_binary() {
        let args = Args::from(json!({"_placeholder": true, "num": 3}));
        assert!(args.binary_at(0).is_none());
    }
}
