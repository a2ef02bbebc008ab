//! What an emit takes: anything `Serialize`, spread into arguments the way a Node
//! application writes them.
//!
//! A value is serialized once, by a serializer that looks only at its top level: a tuple
//! is several arguments, `()` none, bytes (`bytes::Bytes`, `serde_bytes`) one binary
//! argument, and anything else one JSON argument. Below the top level everything is
//! `serde_json`'s own encoding, so a struct reaches the client exactly as `serde_json`
//! writes it.

use bytes::Bytes;
use serde::ser::{self, Serialize, Serializer};
use serde_json::value::Serializer as ValueSerializer;
use serde_json::{Error, Value};

use super::args::Args;
use super::ops::OpError;

/// Whatever an emit or an acknowledgement takes as its arguments.
///
/// - a tuple is several arguments: `("hello", 42, &user)` (Node: `emit(ev, "hello", 42, user)`);
/// - `()` is no argument, and so is `json!(null)`, which serializes as `()`: one `null`
///   argument is `None` (an `Option`) or `(json!(null),)`;
/// - [`crate::Bytes`] (or `serde_bytes::ByteBuf`), alone or as a tuple member, is a binary
///   argument, which the client receives as a `Buffer` / `ArrayBuffer`;
/// - any other `Serialize` value is one argument, as `serde_json` writes it (a `Vec` or a
///   `json!([..])` is one array);
/// - an [`Args`] (or `&Args`) goes as it is, binary attachments included.
///
/// ```
/// use serde::Serialize;
/// use serde_json::json;
/// use sio_core::{Bytes, IntoArgs};
///
/// #[derive(Serialize)]
/// struct Point {
///     x: i32,
///     y: i32,
/// }
///
/// let args = ("moved", Point { x: 1, y: 2 }, Bytes::from_static(b"\x01")).into_args().unwrap();
/// assert_eq!(args.len(), 3);
/// assert_eq!(args.get(1), Some(&json!({ "x": 1, "y": 2 })));
/// assert_eq!(args.binary_at(2).unwrap().as_ref(), b"\x01");
///
/// assert_eq!(vec![1, 2].into_args().unwrap().len(), 1);
/// assert!(().into_args().unwrap().is_empty());
/// ```
pub trait IntoArgs {
    /// Converts into arguments; fails with [`OpError::Data`] when the value does not
    /// serialize (a map with keys that are not strings, a failing `Serialize` impl).
    fn into_args(self) -> Result<Args, OpError>;
}

impl IntoArgs for Args {
    fn into_args(self) -> Result<Args, OpError> {
        Ok(self)
    }
}

impl IntoArgs for &Args {
    fn into_args(self) -> Result<Args, OpError> {
        Ok(self.clone())
    }
}

impl<T: Serialize> IntoArgs for T {
    fn into_args(self) -> Result<Args, OpError> {
        self.serialize(Top { spread: true }).map_err(|e| OpError::Data(e.to_string()))
    }
}

/// The top-level serializer. With `spread`, a tuple is several arguments and `()` none;
/// without (a tuple's member), every value is exactly one argument.
#[derive(Clone, Copy)]
struct Top {
    spread: bool,
}

fn one(value: Value) -> Args {
    Args { values: vec![value], binary: Vec::new() }
}

/// Wraps `serde_json`'s compound serializers so that their value ends as one argument.
struct One<S>(S);

/// A tuple: at the top level its members are the arguments, each one argument (bytes a
/// binary one); below, one array as `serde_json` writes it.
enum Tuple {
    Spread(Args),
    One(<ValueSerializer as Serializer>::SerializeTuple),
}

macro_rules! json_scalars {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(fn $method(self, v: $ty) -> Result<Args, Error> {
            ValueSerializer.$method(v).map(one)
        })*
    };
}

impl Serializer for Top {
    type Ok = Args;
    type Error = Error;
    type SerializeSeq = One<<ValueSerializer as Serializer>::SerializeSeq>;
    type SerializeTuple = Tuple;
    type SerializeTupleStruct = One<<ValueSerializer as Serializer>::SerializeTupleStruct>;
    type SerializeTupleVariant = One<<ValueSerializer as Serializer>::SerializeTupleVariant>;
    type SerializeMap = One<<ValueSerializer as Serializer>::SerializeMap>;
    type SerializeStruct = One<<ValueSerializer as Serializer>::SerializeStruct>;
    type SerializeStructVariant = One<<ValueSerializer as Serializer>::SerializeStructVariant>;

    json_scalars!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
    );

    fn serialize_bytes(self, v: &[u8]) -> Result<Args, Error> {
        Ok(Args::new().binary_arg(Bytes::copy_from_slice(v)))
    }

    fn serialize_none(self) -> Result<Args, Error> {
        Ok(one(Value::Null))
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Args, Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Args, Error> {
        Ok(if self.spread { Args::new() } else { one(Value::Null) })
    }

    fn serialize_unit_struct(self, name: &'static str) -> Result<Args, Error> {
        ValueSerializer.serialize_unit_struct(name).map(one)
    }

    fn serialize_unit_variant(self, name: &'static str, index: u32, variant: &'static str) -> Result<Args, Error> {
        ValueSerializer.serialize_unit_variant(name, index, variant).map(one)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _name: &'static str, value: &T) -> Result<Args, Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Args, Error> {
        ValueSerializer.serialize_newtype_variant(name, index, variant, value).map(one)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        ValueSerializer.serialize_seq(len).map(One)
    }

    fn serialize_tuple(self, len: usize) -> Result<Tuple, Error> {
        match self.spread {
            true => Ok(Tuple::Spread(Args { values: Vec::with_capacity(len), binary: Vec::new() })),
            false => ValueSerializer.serialize_tuple(len).map(Tuple::One),
        }
    }

    fn serialize_tuple_struct(self, name: &'static str, len: usize) -> Result<Self::SerializeTupleStruct, Error> {
        ValueSerializer.serialize_tuple_struct(name, len).map(One)
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        ValueSerializer.serialize_tuple_variant(name, index, variant, len).map(One)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        ValueSerializer.serialize_map(len).map(One)
    }

    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Self::SerializeStruct, Error> {
        ValueSerializer.serialize_struct(name, len).map(One)
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        ValueSerializer.serialize_struct_variant(name, index, variant, len).map(One)
    }
}

impl ser::SerializeTuple for Tuple {
    type Ok = Args;
    type Error = Error;

    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        match self {
            Tuple::Spread(args) => {
                let mut member = value.serialize(Top { spread: false })?;
                match member.binary.pop() {
                    Some(bytes) => *args = std::mem::take(args).binary_arg(bytes),
                    None => args.values.append(&mut member.values),
                }
                Ok(())
            }
            Tuple::One(json) => ser::SerializeTuple::serialize_element(json, value),
        }
    }

    fn end(self) -> Result<Args, Error> {
        match self {
            Tuple::Spread(args) => Ok(args),
            Tuple::One(json) => ser::SerializeTuple::end(json).map(one),
        }
    }
}

macro_rules! one_compound {
    ($($trait:ident { $($method:ident($($arg:ident: $ty:ty),*)),* }),* $(,)?) => {
        $(impl<S: ser::$trait<Ok = Value, Error = Error>> ser::$trait for One<S> {
            type Ok = Args;
            type Error = Error;

            $(fn $method<T: ?Sized + Serialize>(&mut self, $($arg: $ty,)* value: &T) -> Result<(), Error> {
                self.0.$method($($arg,)* value)
            })*

            fn end(self) -> Result<Args, Error> {
                self.0.end().map(one)
            }
        })*
    };
}

one_compound!(
    SerializeSeq { serialize_element() },
    SerializeTupleStruct { serialize_field() },
    SerializeTupleVariant { serialize_field() },
    SerializeStruct { serialize_field(key: &'static str) },
    SerializeStructVariant { serialize_field(key: &'static str) },
);

impl<S: ser::SerializeMap<Ok = Value, Error = Error>> ser::SerializeMap for One<S> {
    type Ok = Args;
    type Error = Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Error> {
        self.0.serialize_key(key)
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.0.serialize_value(value)
    }

    fn end(self) -> Result<Args, Error> {
        self.0.end().map(one)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;

    #[test]
    fn a_tuple_spreads_into_arguments_and_its_members_stay_whole() {
        let args = ("a", (1, 2), vec![3], None::<u8>, ()).into_args().unwrap();
        assert_eq!(args.values, vec![json!("a"), json!([1, 2]), json!([3]), Value::Null, Value::Null]);
        assert!(args.binary.is_empty());
    }

    #[test]
    fn bytes_are_binary_at_the_top_level_only() {
        let args = (Bytes::from_static(b"ab"), Some(Bytes::from_static(b"c"))).into_args().unwrap();
        assert_eq!(args.binary_at(0).unwrap().as_ref(), b"ab");
        assert_eq!(args.binary_at(1).unwrap().as_ref(), b"c");
        let alone = Bytes::from_static(b"z").into_args().unwrap();
        assert_eq!((alone.len(), alone.binary_at(0).unwrap().as_ref()), (1, &b"z"[..]));
        let nested = json!({ "b": serde_json::to_value(Bytes::from_static(b"\x01")).unwrap() });
        assert_eq!(nested.into_args().unwrap().values, vec![json!({ "b": [1] })]);
    }

    #[test]
    fn a_value_is_one_argument_and_args_pass_through() {
        assert_eq!(json!([1, 2]).into_args().unwrap().len(), 1);
        assert_eq!(5.into_args().unwrap().values, vec![json!(5)]);
        assert!(().into_args().unwrap().is_empty());
        let args = Args::new().arg(1).binary_arg(vec![9]);
        assert_eq!((&args).into_args().unwrap(), args);
        assert_eq!(args.clone().into_args().unwrap(), args);
    }

    #[test]
    fn a_value_that_does_not_serialize_is_an_error() {
        let map: HashMap<(u8, u8), u8> = [((1, 2), 3)].into_iter().collect();
        assert!(matches!(map.into_args(), Err(OpError::Data(_))));
        assert!(matches!(("ok", HashMap::from([((1, 2), 3)])).into_args(), Err(OpError::Data(_))));
    }
}
