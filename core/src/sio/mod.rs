//! Socket.IO protocol 5: namespaces, events and acknowledgements over Engine.IO.

pub mod packet;
