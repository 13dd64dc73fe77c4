//! The probe thread's scheduling class.

/// Moves the calling thread to `SCHED_FIFO` at the lowest real-time priority (1), not inherited
/// by children. Returns whether it could (it needs root or `CAP_SYS_NICE`; otherwise the thread
/// stays at normal priority and only its timing suffers).
pub fn raise() -> bool {
    let param = libc::sched_param { sched_priority: 1 };
    // SAFETY: pid 0 is the calling thread; `param` is valid for the call.
    let rc = unsafe {
        libc::sched_setscheduler(0, libc::SCHED_FIFO | libc::SCHED_RESET_ON_FORK, &param)
    };
    rc == 0
}
