//! The project's own binaries allocate with jemalloc, one arena per CPU.
//!
//! An echo with ack makes about 27 allocations, and glibc's malloc spent a third of the
//! server's instructions on them (it also consolidates its fast bins whenever a request
//! above 1 KiB arrives, which every inbound event's boxed handler future is). With
//! jemalloc, callgrind counts 17.4k instructions per echo ack instead of 20.8k, and the
//! benchmark's server CPU per ack fell to 0.71× of the same server on glibc, in one run.
//! Arenas per CPU (rather than jemalloc's default of four per CPU) keep idle connections
//! as small as with glibc: 10.7–11.2 KB each against 11.3 KB.

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Read by jemalloc at start-up (its `malloc_conf` symbol under the crate's prefix).
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8; 20] = b"percpu_arena:percpu\0";
