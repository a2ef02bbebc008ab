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
///
/// A handler reads what the client sent by position: `socket.emit("move", 3, "left")` in
/// the browser arrives as `args.get(0) == 3` and `args.str(1) == Some("left")`, or all at
/// once with [`Self::parse_all`]. Emits take anything [`crate::IntoArgs`]: a `Serialize`
/// value, a tuple for several arguments, or an `Args` built argument by argument (with
/// [`Self::placeholder`], bytes anywhere inside an argument).
///
/// ```
/// use serde::Deserialize;
/// use serde_json::json;
/// use sio_core::Args;
///
/// #[derive(Deserialize)]
/// struct Move {
///     x: i32,
///     y: i32,
/// }
///
/// // What the client sent with `socket.emit("move", { x: 1, y: 2 }, "fast", buffer)`.
/// let args = Args::new().arg(json!({ "x": 1, "y": 2 })).arg("fast").binary_arg(vec![0xff]);
///
/// let mv: Move = args.parse(0).unwrap();
/// assert_eq!((mv.x, mv.y), (1, 2));
/// assert_eq!(args.str(1), Some("fast"));
/// assert_eq!(args.binary_at(2).unwrap().as_ref(), [0xff]);
/// assert_eq!(args.len(), 3);
///
/// // A single value converts into one argument.
/// assert_eq!(Args::from(json!({ "ok": true })).len(), 1);
/// assert!(Args::from(()).is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args {
    /// The JSON arguments, in order; a binary argument is a placeholder object here.
    pub values: Vec<Value>,
    /// The binary attachments the placeholders in `values` point to, by index.
    pub binary: Vec<Bytes>,
}

impl Args {
    /// No arguments.
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

    /// Registers bytes to be placed anywhere inside a JSON argument, and returns the
    /// placeholder value to put there.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use serde_json::json;
    /// use sio_core::Args;
    ///
    /// // The client receives `{ name: "a.png", file: <ArrayBuffer> }`.
    /// let mut args = Args::new();
    /// let file = args.placeholder(Bytes::from_static(b"\x89PNG"));
    /// let args = args.arg(json!({ "name": "a.png", "file": file }));
    /// assert_eq!(args.len(), 1);
    /// assert_eq!(args.binary.len(), 1);
    /// ```
    pub fn placeholder(&mut self, bytes: Bytes) -> Value {
        self.binary.push(bytes);
        serde_json::json!({ "_placeholder": true, "num": self.binary.len() - 1 })
    }

    /// The number of arguments.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there is no argument.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The argument at `index` as JSON (a placeholder object for a binary argument).
    pub fn get(&self, index: usize) -> Option<&Value> {
        self.values.get(index)
    }

    /// The argument at `index` deserialized; `None` when absent or of another shape.
    pub fn parse<T: DeserializeOwned>(&self, index: usize) -> Option<T> {
        self.values.get(index).and_then(|v| T::deserialize(v).ok())
    }

    /// Every argument deserialized at once, into a tuple (one member per argument) or a
    /// struct (fields in argument order); `None` when they have another shape. Binary
    /// arguments are placeholders here: read them with [`Self::binary_at`].
    ///
    /// ```
    /// use serde_json::json;
    /// use sio_core::Args;
    ///
    /// // socket.emit("move", "left", 3)
    /// let args = Args::new().arg("left").arg(3);
    /// let (direction, steps): (String, u32) = args.parse_all().unwrap();
    /// assert_eq!((direction.as_str(), steps), ("left", 3));
    /// ```
    pub fn parse_all<T: DeserializeOwned>(&self) -> Option<T> {
        T::deserialize(serde::de::value::SeqDeserializer::new(self.values.iter())).ok()
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

    /// Splits off the first argument (an event name on the wire). `None` when `data` is
    /// not an array whose first element is a string or a number. Used by runtimes.
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

    /// The arguments of an acknowledgement packet: an array is the list of arguments,
    /// another value is one argument, no value is none. Used by runtimes.
    pub fn from_ack_data(data: Option<Value>, binary: Vec<Bytes>) -> Self {
        let values = match data {
            Some(Value::Array(values)) => values,
            Some(other) => vec![other],
            None => Vec::new(),
        };
        Self { values, binary }
    }

    /// The wire array of an event: the name, then the arguments. Used by runtimes.
    pub fn into_event_data(self, event: &str) -> (Value, Vec<Bytes>) {
        let mut values = Vec::with_capacity(self.values.len() + 1);
        values.push(Value::String(event.to_owned()));
        values.extend(self.values);
        (Value::Array(values), self.binary)
    }

    /// The wire array of an acknowledgement: the arguments. Used by runtimes.
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

impl From<()> for Args {
    /// No argument.
    fn from(_: ()) -> Self {
        Self::default()
    }
}

impl From<String> for Args {
    /// One string argument.
    fn from(value: String) -> Self {
        Value::String(value).into()
    }
}

impl From<&str> for Args {
    /// One string argument.
    fn from(value: &str) -> Self {
        Value::String(value.to_owned()).into()
    }
}

impl From<Bytes> for Args {
    /// One binary argument.
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
