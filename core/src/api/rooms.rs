//! Room arguments: one room or several, as Node's `join(room)` and `join([a, b])` take.

/// One room or several: what `join`, `leave`, `to`, `within`, `except`, `sockets_join` and
/// `sockets_leave` take. A `&str` or a `String` is one room; a `Vec`, an array or a slice
/// of them are several, as Node's calls take an array.
///
/// ```
/// use sio_core::Rooms;
///
/// assert_eq!("lobby".into_rooms(), ["lobby"]);
/// assert_eq!(["red", "blue"].into_rooms(), ["red", "blue"]);
/// assert_eq!(vec!["a".to_owned()].into_rooms(), ["a"]);
/// ```
pub trait Rooms {
    /// The room names, in the order given.
    fn into_rooms(self) -> Vec<String>;
}

impl Rooms for &str {
    fn into_rooms(self) -> Vec<String> {
        vec![self.to_owned()]
    }
}

impl Rooms for String {
    fn into_rooms(self) -> Vec<String> {
        vec![self]
    }
}

impl Rooms for &String {
    fn into_rooms(self) -> Vec<String> {
        vec![self.clone()]
    }
}

impl<T: Into<String>> Rooms for Vec<T> {
    fn into_rooms(self) -> Vec<String> {
        self.into_iter().map(Into::into).collect()
    }
}

impl<T: Into<String>, const N: usize> Rooms for [T; N] {
    fn into_rooms(self) -> Vec<String> {
        self.into_iter().map(Into::into).collect()
    }
}

impl<T: Into<String> + Clone> Rooms for &[T] {
    fn into_rooms(self) -> Vec<String> {
        self.iter().cloned().map(Into::into).collect()
    }
}
