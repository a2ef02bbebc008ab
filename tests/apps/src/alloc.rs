//! The project's own binaries allocate with jemalloc, one arena per CPU.
//!
//! An echo with ack makes a few dozen small allocations, and glibc's malloc is slow at
//! them: it also consolidates its fast bins whenever a request above 1 KiB arrives, which
//! every inbound event's boxed handler future is. Arenas per CPU (rather than jemalloc's
//! default of four per CPU) keep idle connections as small as with glibc. The figures are
//! in bench/README.md ("The allocator").

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Read by jemalloc at start-up (its `malloc_conf` symbol under the crate's prefix).
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8; 20] = b"percpu_arena:percpu\0";
